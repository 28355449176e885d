-- consent-milter PostgreSQL schema, version 1 (issue 11: the system of record).
--
-- Applied by `consentctl pg-init` in one transaction. The ledger keeps, per
-- event, the exact LMDB ledger value (raw, format 1 of store/store_ledger.c)
-- plus a few decoded columns for queries; a replica appends raw unchanged,
-- so its chain equals this one byte for byte. Appends take a row lock on
-- ledger_head (the only row), so seq is gapless and in commit order.
-- Migration path: schema_version holds one row; a later schema-vN.sql
-- upgrades from N-1 inside a transaction and sets version = N. A program
-- refuses a database whose version is not the one it knows.

set client_min_messages = warning;

create table if not exists schema_version (
    version integer not null,
    applied_at timestamptz not null default now()
);

create table if not exists meta (
    key text primary key,
    value bytea not null
);

create table if not exists ledger_head (
    one boolean primary key default true check (one),
    seq bigint not null default 0 check (seq >= 0),
    hash bytea not null default '\x0000000000000000000000000000000000000000000000000000000000000000'
);
insert into ledger_head (one) values (true) on conflict do nothing;

create table if not exists ledger (
    seq bigint primary key check (seq > 0),
    id uuid not null unique,
    controller text not null,
    recipient text,                 -- NULL once erased
    action smallint not null,       -- enum store_action
    time bigint not null,
    dedup bytea,                    -- NULL once erased, and for ERASE events
    tombstone boolean not null default false,
    raw bytea not null
);
-- No index on dedup: an import asks for a recipient's repeats through
-- ledger_rcpt (a recipient has few events), and every index here is paid
-- on each append (dropped where an earlier pg-init made it).
drop index if exists ledger_dedup;
create index if not exists ledger_rcpt on ledger (controller, recipient)
    where recipient is not null;

create table if not exists consent (
    controller text not null,
    recipient text not null,
    states integer not null,
    updated bigint not null,
    informed bigint not null,
    last_seq bigint not null,
    primary key (controller, recipient)
);
-- No foreign key from last_seq to ledger: checked row by row it cost more
-- than the row itself on a bulk import (11 us of 18 per row), and it
-- proves little: ledger rows are never deleted (consent_ledger_guard) and
-- verify checks consent against the ledger. Dropped where an earlier
-- pg-init made it.
alter table consent drop constraint if exists consent_last_seq_fkey;

create table if not exists lastopen (
    controller text not null,
    recipient text not null,
    day bigint not null,
    primary key (controller, recipient)
);

create table if not exists anon (
    controller text not null,
    campaign text not null,
    day bigint not null,
    count bigint not null default 0,
    primary key (controller, campaign, day)
);

create table if not exists notices (
    sha256 bytea primary key check (length(sha256) = 32),
    first_seen bigint not null,
    source text not null default '',
    text bytea not null
);

-- The ledger is append-only except for erasure, which rewrites a row into
-- its tombstone (raw shortened, recipient and dedup NULL) and nothing else.
create or replace function consent_ledger_guard() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'consent ledger is append-only (seq %)', old.seq;
    end if;
    if new.seq <> old.seq or new.id <> old.id or new.action <> old.action
       or new.time <> old.time or not new.tombstone or new.recipient is not null
       or new.dedup is not null then
        raise exception 'consent ledger row % may only become a tombstone', old.seq;
    end if;
    return new;
end $$;
drop trigger if exists ledger_guard on ledger;
create trigger ledger_guard before update or delete on ledger
    for each row execute function consent_ledger_guard();

-- Roles: relays read the replication log; gates and consentctl write.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'consent_relay') then
        create role consent_relay nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'consent_writer') then
        create role consent_writer nologin;
    end if;
end $$;
revoke all on schema_version, meta, ledger_head, ledger, consent, lastopen, anon, notices
    from public;
grant select on schema_version, meta, ledger_head, ledger to consent_relay;
grant select on schema_version, meta, ledger_head, ledger to consent_writer;
grant insert, update on ledger_head, ledger to consent_writer;
grant select, insert, update, delete on consent, lastopen, anon, notices to consent_writer;
grant insert on meta to consent_writer;

insert into schema_version (version)
    select 1 where not exists (select 1 from schema_version);
