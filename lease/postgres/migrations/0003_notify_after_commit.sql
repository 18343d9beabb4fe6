-- leased lease store, schema version 3: leased_commit no longer
-- notifies. PostgreSQL holds a lock shared by the whole database from a
-- transaction's first NOTIFY until its commit is flushed, so commits that
-- notify never share a WAL flush: two servers' commits took turns. The
-- function now only decides and writes, as version 2 did, and returns the
-- refused calls; the server sends the notifications of the records
-- written itself, after COMMIT, in a statement of their own that writes
-- nothing (and so commits without a flush). The notes no longer travel
-- to the database with the records, nor the channel.
DROP FUNCTION leased_commit(text, text, int[], inet[], bytea[], smallint[], bytea[], bytea[], smallint[],
    timestamptz[], timestamptz[], text[]);
CREATE OR REPLACE FUNCTION leased_commit(
    p_server text, p_call int[], p_addr inet[], p_client bytea[],
    p_hw_type smallint[], p_hw_addr bytea[], p_hostname bytea[], p_state smallint[],
    p_start timestamptz[], p_expiry timestamptz[])
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
        IF i = j AND p_state[i] <> 5 THEN
            -- One record: written where the address has no record, or a
            -- record of the same client, or one whose lease has ended;
            -- never an expiry over a bound lease not yet ended.
            INSERT INTO leased_leases AS l VALUES (p_addr[i], p_client[i], p_hw_type[i], p_hw_addr[i],
                p_hostname[i], p_state[i], p_start[i], p_expiry[i], p_server, t)
            ON CONFLICT (addr) DO UPDATE SET client_id = EXCLUDED.client_id, hw_type = EXCLUDED.hw_type,
                hw_addr = EXCLUDED.hw_addr, hostname = EXCLUDED.hostname, state = EXCLUDED.state,
                start_time = EXCLUDED.start_time, expiry = EXCLUDED.expiry, server = EXCLUDED.server,
                updated = EXCLUDED.updated
            WHERE (l.client_id = EXCLUDED.client_id OR l.state IN (2, 3) OR (l.state IN (1, 4) AND l.expiry <= t))
                AND NOT (EXCLUDED.state = 3 AND l.state = 1 AND l.expiry > t);
            IF NOT FOUND THEN
                SELECT * INTO r FROM leased_leases WHERE addr = p_addr[i];
                o_call := p_call[i]; o_addr := r.addr; o_client := r.client_id; o_hw_type := r.hw_type;
                o_hw_addr := r.hw_addr; o_hostname := r.hostname; o_state := r.state;
                o_start := r.start_time; o_expiry := r.expiry;
                RETURN NEXT;
            END IF;
            i := j + 1;
            CONTINUE;
        END IF;
        -- Several records, or a deletion: check them all, then write
        -- them all.
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
            END LOOP;
        END IF;
        i := j + 1;
    END LOOP;
END;
$$;
