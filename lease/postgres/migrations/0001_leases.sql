-- leased lease store, schema version 1: the lease table and the function
-- through which every server commits to it.

CREATE TABLE leased_leases (
    addr       inet PRIMARY KEY,       -- the leased IPv4 address
    client_id  bytea NOT NULL,         -- client identifier (option 61) or hardware type + address
    hw_type    smallint NOT NULL,      -- ARP hardware type
    hw_addr    bytea NOT NULL,         -- hardware address (chaddr)
    hostname   bytea NOT NULL,         -- host name as the client sent it (any bytes)
    state      smallint NOT NULL,      -- 1 bound, 2 released, 3 expired, 4 declined
    start_time timestamptz NOT NULL,   -- when the lease was granted or changed state
    expiry     timestamptz NOT NULL,   -- when a bound lease ends, a declined address leaves probation
    server     text NOT NULL,          -- the server that wrote the record last
    updated    timestamptz NOT NULL    -- when, by the database's clock
);

CREATE INDEX leased_leases_client ON leased_leases (client_id);

-- leased_commit applies the commits of one batch, in one transaction.
-- Records of one call share p_call and come one after the other; a call
-- applies all of its records or none. A record may be written when its
-- address has no record, or a record of the same client, or one whose
-- lease has ended by the database's clock: released, expired, or bound
-- or declined with its expiry passed. A record of state expired may not
-- end a bound lease whose expiry has not passed (another server renewed
-- it). The function returns, for each refused call, the call and the
-- record that holds the address. The changes it made are notified on
-- channel p_channel, with payloads "<p_server> <note>;<note>...".
CREATE FUNCTION leased_commit(
    p_server text, p_channel text, p_call int[], p_addr inet[], p_client bytea[],
    p_hw_type smallint[], p_hw_addr bytea[], p_hostname bytea[], p_state smallint[],
    p_start timestamptz[], p_expiry timestamptz[], p_note text[])
RETURNS TABLE (o_call int, o_addr inet, o_client bytea, o_hw_type smallint, o_hw_addr bytea,
    o_hostname bytea, o_state smallint, o_start timestamptz, o_expiry timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(array_length(p_addr, 1), 0);
    i int := 1;
    j int;
    k int;
    r leased_leases%ROWTYPE;
    refused boolean;
    t timestamptz;
    note text := '';
    head text := p_server || ' ';
BEGIN
    -- Every writer locks the addresses of its batch in address order
    -- before it reads them: batches of several servers wait for each
    -- other on a shared address and never deadlock, and an address
    -- without a record is locked as well as one with.
    -- (The sorted subquery feeds the locks in its order.)
    PERFORM pg_advisory_xact_lock((x'6c656173'::bigint << 32) | (s.x - '0.0.0.0'::inet))
    FROM (SELECT DISTINCT x FROM unnest(p_addr) AS x ORDER BY 1) AS s;
    t := clock_timestamp();
    WHILE i <= n LOOP
        j := i;
        WHILE j < n AND p_call[j + 1] = p_call[i] LOOP
            j := j + 1;
        END LOOP;
        refused := false;
        FOR k IN i .. j LOOP
            SELECT * INTO r FROM leased_leases WHERE addr = p_addr[k];
            IF FOUND AND (
                (r.client_id <> p_client[k] AND NOT (r.state IN (2, 3) OR (r.state IN (1, 4) AND r.expiry <= t)))
                OR (p_state[k] = 3 AND r.state = 1 AND r.expiry > t)) THEN
                o_call := p_call[k]; o_addr := r.addr; o_client := r.client_id; o_hw_type := r.hw_type;
                o_hw_addr := r.hw_addr; o_hostname := r.hostname; o_state := r.state;
                o_start := r.start_time; o_expiry := r.expiry;
                RETURN NEXT;
                refused := true;
                EXIT;
            END IF;
        END LOOP;
        IF NOT refused THEN
            FOR k IN i .. j LOOP
                IF p_state[k] = 5 THEN
                    DELETE FROM leased_leases WHERE addr = p_addr[k];
                ELSE
                    INSERT INTO leased_leases AS l VALUES (p_addr[k], p_client[k], p_hw_type[k], p_hw_addr[k],
                        p_hostname[k], p_state[k], p_start[k], p_expiry[k], p_server, t)
                    ON CONFLICT (addr) DO UPDATE SET client_id = EXCLUDED.client_id, hw_type = EXCLUDED.hw_type,
                        hw_addr = EXCLUDED.hw_addr, hostname = EXCLUDED.hostname, state = EXCLUDED.state,
                        start_time = EXCLUDED.start_time, expiry = EXCLUDED.expiry, server = EXCLUDED.server,
                        updated = EXCLUDED.updated;
                END IF;
                IF length(note) > 0 AND length(head) + length(note) + length(p_note[k]) >= 7900 THEN
                    PERFORM pg_notify(p_channel, head || note);
                    note := '';
                END IF;
                IF length(note) > 0 THEN
                    note := note || ';';
                END IF;
                note := note || p_note[k];
            END LOOP;
        END IF;
        i := j + 1;
    END LOOP;
    IF length(note) > 0 THEN
        PERFORM pg_notify(p_channel, head || note);
    END IF;
END;
$$;
