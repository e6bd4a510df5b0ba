-- RetailSync schema for the Orleans 10.4 ADO.NET providers on PostgreSQL (invariant "Npgsql").
-- The providers ship no SQL: they load their statements from OrleansQuery at start-up and bind
-- parameters and result columns by name, so those names are the contract; the table names are ours.
-- Every statement is idempotent; the migrator runs this under an advisory lock.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL PRIMARY KEY,
    QueryText varchar(8000) NOT NULL
);

-- Membership: one version row per cluster, one row per silo incarnation.
CREATE TABLE IF NOT EXISTS rs_membership_version
(
    DeploymentId varchar(150) NOT NULL PRIMARY KEY,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS rs_membership
(
    DeploymentId varchar(150) NOT NULL REFERENCES rs_membership_version (DeploymentId),
    Address      varchar(45)  NOT NULL,
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     varchar(150) NOT NULL,
    HostName     varchar(150) NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer      NULL,
    SuspectTimes varchar(8000) NULL,
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- A membership change succeeds only if the caller saw the current table version; otherwise nothing
-- changes (the exception block rolls the row change back) and 0 tells Orleans to re-read and retry.
CREATE OR REPLACE FUNCTION rs_membership_insert(
    p_deployment varchar, p_address varchar, p_port integer, p_generation integer,
    p_silo_name varchar, p_host_name varchar, p_status integer, p_proxy_port integer,
    p_start timestamptz, p_alive timestamptz, p_version integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
    INSERT INTO rs_membership (DeploymentId, Address, Port, Generation, SiloName, HostName, Status,
                               ProxyPort, StartTime, IAmAliveTime)
    VALUES (p_deployment, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
            p_proxy_port, p_start, p_alive)
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN RETURN 0; END IF;
    UPDATE rs_membership_version SET Version = Version + 1, Timestamp = now()
     WHERE DeploymentId = p_deployment AND Version = p_version;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN RAISE EXCEPTION 'stale membership version' USING ERRCODE = 'RSV01'; END IF;
    RETURN 1;
EXCEPTION WHEN SQLSTATE 'RSV01' THEN
    RETURN 0;
END $$;

CREATE OR REPLACE FUNCTION rs_membership_update(
    p_deployment varchar, p_address varchar, p_port integer, p_generation integer,
    p_status integer, p_suspect_times varchar, p_alive timestamptz, p_version integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
    UPDATE rs_membership_version SET Version = Version + 1, Timestamp = now()
     WHERE DeploymentId = p_deployment AND Version = p_version;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN RETURN 0; END IF;
    UPDATE rs_membership SET Status = p_status, SuspectTimes = p_suspect_times, IAmAliveTime = p_alive
     WHERE DeploymentId = p_deployment AND Address = p_address AND Port = p_port AND Generation = p_generation;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN RAISE EXCEPTION 'no such silo row' USING ERRCODE = 'RSV01'; END IF;
    RETURN 1;
EXCEPTION WHEN SQLSTATE 'RSV01' THEN
    RETURN 0;
END $$;

-- Grain state. Version is the ETag: a write names the version it read and fails (returns it
-- unchanged) when another writer got there first.
CREATE TABLE IF NOT EXISTS rs_grain_state
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NOT NULL DEFAULT '',
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamp    NOT NULL,
    Version                integer      NOT NULL,
    PRIMARY KEY (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, GrainTypeString, GrainIdExtensionString, ServiceId)
);

CREATE OR REPLACE FUNCTION rs_grain_state_write(
    p_id_hash integer, p_n0 bigint, p_n1 bigint, p_type_hash integer, p_type varchar,
    p_ext varchar, p_service varchar, p_version integer, p_payload bytea)
RETURNS TABLE (NewGrainStateVersion integer) LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
    IF p_version IS NULL THEN
        -- First write of this grain: the primary key lets exactly one concurrent insert win.
        INSERT INTO rs_grain_state (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
                                    GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
        VALUES (p_id_hash, p_n0, p_n1, p_type_hash, p_type, coalesce(p_ext, ''), p_service, p_payload,
                now() AT TIME ZONE 'utc', 1)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN QUERY SELECT CASE WHEN n > 0 THEN 1 ELSE NULL END;
    ELSE
        UPDATE rs_grain_state SET PayloadBinary = p_payload, ModifiedOn = now() AT TIME ZONE 'utc',
               Version = Version + 1
         WHERE GrainIdHash = p_id_hash AND GrainTypeHash = p_type_hash AND GrainIdN0 = p_n0
           AND GrainIdN1 = p_n1 AND GrainTypeString = p_type
           AND GrainIdExtensionString = coalesce(p_ext, '') AND ServiceId = p_service
           AND Version = p_version;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN QUERY SELECT CASE WHEN n > 0 THEN p_version + 1 ELSE p_version END;
    END IF;
END $$;

-- Reminders.
CREATE TABLE IF NOT EXISTS rs_reminders
(
    ServiceId    varchar(150) NOT NULL,
    GrainId      varchar(150) NOT NULL,
    ReminderName varchar(150) NOT NULL,
    StartTime    timestamptz(3) NOT NULL,
    Period       bigint  NOT NULL,
    GrainHash    integer NOT NULL,
    Version      integer NOT NULL,
    PRIMARY KEY (ServiceId, GrainId, ReminderName)
);
CREATE INDEX IF NOT EXISTS ix_rs_reminders_hash ON rs_reminders (ServiceId, GrainHash);

-- The statements the providers execute, keyed as they ask for them.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
    WITH i AS (INSERT INTO rs_membership_version (DeploymentId) VALUES (@DeploymentId)
               ON CONFLICT DO NOTHING RETURNING 1)
    SELECT count(*)::integer FROM i;
$q$),
('InsertMembershipKey', $q$
    SELECT rs_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
                                @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version);
$q$),
('UpdateMembershipKey', $q$
    SELECT rs_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
                                @IAmAliveTime, @Version);
$q$),
('UpdateIAmAlivetimeKey', $q$
    UPDATE rs_membership SET IAmAliveTime = @IAmAliveTime
     WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;
$q$),
('MembershipReadRowKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
      FROM rs_membership_version v
      LEFT JOIN rs_membership m ON m.DeploymentId = v.DeploymentId
           AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
     WHERE v.DeploymentId = @DeploymentId;
$q$),
('MembershipReadAllKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
      FROM rs_membership_version v
      LEFT JOIN rs_membership m ON m.DeploymentId = v.DeploymentId
     WHERE v.DeploymentId = @DeploymentId;
$q$),
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM rs_membership WHERE DeploymentId = @DeploymentId;
    DELETE FROM rs_membership_version WHERE DeploymentId = @DeploymentId;
$q$),
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM rs_membership
     WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status <> 3;
$q$),
('GatewaysQueryKey', $q$
    SELECT Address, ProxyPort, Generation FROM rs_membership
     WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
$q$),
('WriteToStorageKey', $q$
    SELECT NewGrainStateVersion FROM rs_grain_state_write(@GrainIdHash, @GrainIdN0, @GrainIdN1,
        @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
$q$),
('ReadFromStorageKey', $q$
    SELECT PayloadBinary, now() AT TIME ZONE 'utc' AS ReadOn, Version
      FROM rs_grain_state
     WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1 AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString = coalesce(@GrainIdExtensionString, '') AND ServiceId = @ServiceId;
$q$),
('ClearStorageKey', $q$
    UPDATE rs_grain_state SET PayloadBinary = NULL, Version = Version + 1
     WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1 AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString = coalesce(@GrainIdExtensionString, '') AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
$q$),
('DeleteStorageKey', $q$
    DELETE FROM rs_grain_state
     WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1 AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString = coalesce(@GrainIdExtensionString, '') AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;
$q$),
('UpsertReminderRowKey', $q$
    INSERT INTO rs_reminders (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, CAST(@Period AS bigint), @GrainHash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
       SET StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash,
           Version = rs_reminders.Version + 1
    RETURNING Version;
$q$),
('ReadReminderRowsKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version FROM rs_reminders
     WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
$q$),
('ReadReminderRowKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version FROM rs_reminders
     WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
$q$),
('ReadRangeRows1Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version FROM rs_reminders
     WHERE ServiceId = @ServiceId AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
$q$),
('ReadRangeRows2Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version FROM rs_reminders
     WHERE ServiceId = @ServiceId AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$q$),
('DeleteReminderRowKey', $q$
    WITH d AS (
        DELETE FROM rs_reminders
         WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName
           AND Version = @Version
        RETURNING 1)
    SELECT count(*)::integer FROM d;
$q$),
('DeleteReminderRowsKey', $q$
    DELETE FROM rs_reminders WHERE ServiceId = @ServiceId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
