-- leased lease store, schema version 4: the DNS name of a lease, which
-- DNS records the server keeps for it, and how far their updates have
-- gone (the lease store is the durable queue of DNS updates).
-- leased_commit_dns takes them with the records; leased_commit, which
-- the servers of schema version 3 call, stays, and writes records
-- without DNS fields, so that running servers go on committing while
-- the others are upgraded.
ALTER TABLE leased_leases
    ADD COLUMN fqdn      text NOT NULL DEFAULT '',     -- the name registered in the DNS, without the trailing dot
    ADD COLUMN dns       smallint NOT NULL DEFAULT 0,  -- records kept: 1 forward (A), 2 reverse (PTR), 3 both
    ADD COLUMN dns_state smallint NOT NULL DEFAULT 0;  -- 0 pending, 1 added, 2 removed

CREATE FUNCTION leased_commit_dns(
    p_server text, p_call int[], p_addr inet[], p_client bytea[],
    p_hw_type smallint[], p_hw_addr bytea[], p_hostname bytea[], p_state smallint[],
    p_start timestamptz[], p_expiry timestamptz[], p_fqdn text[], p_dns smallint[], p_dns_state smallint[])
RETURNS TABLE (o_call int, o_addr inet, o_client bytea, o_hw_type smallint, o_hw_addr bytea,
    o_hostname bytea, o_state smallint, o_start timestamptz, o_expiry timestamptz,
    o_fqdn text, o_dns smallint, o_dns_state smallint)
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
    -- As leased_commit of version 3, with the DNS fields written too.
    PERFORM pg_advisory_xact_lock((x'6c656173'::bigint << 32) | (s.x - '0.0.0.0'::inet))
    FROM (SELECT DISTINCT x FROM unnest(p_addr) AS x ORDER BY 1) AS s;
    t := clock_timestamp();
    WHILE i <= n LOOP
        j := i;
        WHILE j < n AND p_call[j + 1] = p_call[i] LOOP
            j := j + 1;
        END LOOP;
        IF i = j AND p_state[i] <> 5 THEN
            INSERT INTO leased_leases AS l (addr, client_id, hw_type, hw_addr, hostname, state, start_time, expiry,
                server, updated, fqdn, dns, dns_state)
            VALUES (p_addr[i], p_client[i], p_hw_type[i], p_hw_addr[i], p_hostname[i], p_state[i], p_start[i],
                p_expiry[i], p_server, t, p_fqdn[i], p_dns[i], p_dns_state[i])
            ON CONFLICT (addr) DO UPDATE SET client_id = EXCLUDED.client_id, hw_type = EXCLUDED.hw_type,
                hw_addr = EXCLUDED.hw_addr, hostname = EXCLUDED.hostname, state = EXCLUDED.state,
                start_time = EXCLUDED.start_time, expiry = EXCLUDED.expiry, server = EXCLUDED.server,
                updated = EXCLUDED.updated, fqdn = EXCLUDED.fqdn, dns = EXCLUDED.dns, dns_state = EXCLUDED.dns_state
            WHERE (l.client_id = EXCLUDED.client_id OR l.state IN (2, 3) OR (l.state IN (1, 4) AND l.expiry <= t))
                AND NOT (EXCLUDED.state = 3 AND l.state = 1 AND l.expiry > t);
            IF NOT FOUND THEN
                SELECT * INTO r FROM leased_leases WHERE addr = p_addr[i];
                o_call := p_call[i]; o_addr := r.addr; o_client := r.client_id; o_hw_type := r.hw_type;
                o_hw_addr := r.hw_addr; o_hostname := r.hostname; o_state := r.state;
                o_start := r.start_time; o_expiry := r.expiry;
                o_fqdn := r.fqdn; o_dns := r.dns; o_dns_state := r.dns_state;
                RETURN NEXT;
            END IF;
            i := j + 1;
            CONTINUE;
        END IF;
        refused := false;
        FOR k IN i .. j LOOP
            SELECT * INTO r FROM leased_leases WHERE addr = p_addr[k];
            IF FOUND AND (
                (r.client_id <> p_client[k] AND NOT (r.state IN (2, 3) OR (r.state IN (1, 4) AND r.expiry <= t)))
                OR (p_state[k] = 3 AND r.state = 1 AND r.expiry > t)) THEN
                o_call := p_call[k]; o_addr := r.addr; o_client := r.client_id; o_hw_type := r.hw_type;
                o_hw_addr := r.hw_addr; o_hostname := r.hostname; o_state := r.state;
                o_start := r.start_time; o_expiry := r.expiry;
                o_fqdn := r.fqdn; o_dns := r.dns; o_dns_state := r.dns_state;
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
                    INSERT INTO leased_leases AS l (addr, client_id, hw_type, hw_addr, hostname, state, start_time,
                        expiry, server, updated, fqdn, dns, dns_state)
                    VALUES (p_addr[k], p_client[k], p_hw_type[k], p_hw_addr[k], p_hostname[k], p_state[k],
                        p_start[k], p_expiry[k], p_server, t, p_fqdn[k], p_dns[k], p_dns_state[k])
                    ON CONFLICT (addr) DO UPDATE SET client_id = EXCLUDED.client_id, hw_type = EXCLUDED.hw_type,
                        hw_addr = EXCLUDED.hw_addr, hostname = EXCLUDED.hostname, state = EXCLUDED.state,
                        start_time = EXCLUDED.start_time, expiry = EXCLUDED.expiry, server = EXCLUDED.server,
                        updated = EXCLUDED.updated, fqdn = EXCLUDED.fqdn, dns = EXCLUDED.dns,
                        dns_state = EXCLUDED.dns_state;
                END IF;
            END LOOP;
        END IF;
        i := j + 1;
    END LOOP;
END;
$$;

-- The function of version 3, for the servers still running it: records
-- without DNS fields (a record it replaces loses its own).
CREATE OR REPLACE FUNCTION leased_commit(
    p_server text, p_call int[], p_addr inet[], p_client bytea[],
    p_hw_type smallint[], p_hw_addr bytea[], p_hostname bytea[], p_state smallint[],
    p_start timestamptz[], p_expiry timestamptz[])
RETURNS TABLE (o_call int, o_addr inet, o_client bytea, o_hw_type smallint, o_hw_addr bytea,
    o_hostname bytea, o_state smallint, o_start timestamptz, o_expiry timestamptz)
LANGUAGE sql AS $$
    SELECT o_call, o_addr, o_client, o_hw_type, o_hw_addr, o_hostname, o_state, o_start, o_expiry
    FROM leased_commit_dns(p_server, p_call, p_addr, p_client, p_hw_type, p_hw_addr, p_hostname, p_state,
        p_start, p_expiry,
        array_fill(''::text, ARRAY[coalesce(array_length(p_addr, 1), 0)]),
        array_fill(0::smallint, ARRAY[coalesce(array_length(p_addr, 1), 0)]),
        array_fill(0::smallint, ARRAY[coalesce(array_length(p_addr, 1), 0)]))
$$;
