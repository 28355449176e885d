/* ctl - shared pieces of the consentctl admin CLI (ctl/consentctl.c,
 * ctl/ctl_*.c). Not a library: these print and exit codes matter.
 *
 * Exit codes: 0 success; 1 failure (missing or corrupt database, I/O,
 * verify found tampering, nothing known about a recipient); 2 bad usage or
 * bad input (address, purpose, date, option); 3 import finished but
 * rejected some rows (the good rows are committed). */
#ifndef STORE_CTL_H
#define STORE_CTL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/buf.h"
#include "store/store.h"

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2, CTL_PARTIAL = 3 };

struct ctl {
    const char *cmd;
    const char *db;
    int json;
    const char *method;
    const char *notice; /* ID[:FILE] */
    const char *actor;
    const char *source_ip;
    const char *user_agent;
    const char *at;     /* event time */
    const char *before; /* inactive */
    const char *info;   /* proof: controller information JSON file */
    const char *config; /* proof: the daemons' configuration (jurisdiction) */
    const char *expect; /* verify: recorded head SEQ:HASH */
    const char *conninfo; /* the PostgreSQL primary (ctl_pg.c) */
    const char *passfile;
    const char *replica;  /* verify --replica DIR (ctl_migrate.c) */
    int with_notices;   /* proof: the exact text of each notice version */
    int events;         /* export: every ledger event (ctl_events.c) */
    int dry_run;
    long batch;
};

/* ctl_err - "consentctl: CMD: message" on stderr, one line. */
void ctl_err(const struct ctl *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* ctl_store_err - report a store status for what (a path or an object);
 * returns the exit code that goes with it. */
int ctl_store_err(const struct ctl *c, int rc, const char *what);
/* ctl_open - open the store; prints the error. mode: CTL_OPEN_READ for the
 * commands that only read (on a read-only directory or mount the store is
 * then opened read-only), CTL_OPEN_CREATE for writers that may create it,
 * CTL_OPEN_WRITE for writers that need it to exist. */
enum { CTL_OPEN_READ = 0, CTL_OPEN_CREATE = 1, CTL_OPEN_WRITE = 2 };
int ctl_open(const struct ctl *c, int mode, struct store **st);
/* ctl_jurisdiction - the jurisdiction (ISO 3166-1 alpha-2) receipts of
 * controller cn name: its [domain] sections' in the configuration (see
 * ctl_juris.c), else from_info (the --controller-info value, may be NULL),
 * else FR with a warning. Prints the error; returns CTL_OK or CTL_USAGE
 * (configuration unreadable, sections or info disagreeing). */
int ctl_jurisdiction(const struct ctl *c, const char *cn, const char *from_info,
                     char out[3]);
/* ctl_print_json - dump and free j (one document, indented, newline). */
void ctl_print_json(json_t *j, int compact);
json_t *ctl_event_json(const struct store_ledger_event *e);
json_t *ctl_purposes_json(uint32_t mask);
json_t *ctl_consent_json(const char *controller, const char *rcpt,
                         const struct store_consent *s);
/* ctl_hex - lower-case hex of n bytes into out (2n+1). */
void ctl_hex(const uint8_t *p, size_t n, char *out);
/* ctl_csv_escaped - whether a CSV cell needs (export) or carries (import)
 * the leading ' that keeps spreadsheets from running it as a formula:
 * after its leading quotes, s starts with = + - @ tab or CR, and it has at
 * least `quotes` leading quotes. Export adds one ' to such a cell (quotes 0),
 * import takes one off (quotes 1), so every value goes out and back
 * unchanged, even one that starts with '=. */
int ctl_csv_escaped(const char *s, size_t quotes);
/* ctl_csv_field - s as one CSV cell on stdout (quoted when needed, the
 * formula guard of ctl_csv_escaped added). */
void ctl_csv_field(const char *s);
/* ctl_notice - parse "ID[:FILE]": id into idbuf; with FILE its exact
 * bytes into text (a buffer whose ceiling is STORE_NOTICE_MAX) and their
 * SHA-256 into sha. ":FILE" derives the id from the hash
 * ("notice-<12 hex>"). Prints the error; returns CTL_OK or CTL_USAGE. */
int ctl_notice(const struct ctl *c, const char *arg, char *idbuf, size_t idlen,
               uint8_t sha[32], struct buf *text);
/* ctl_notice_json - one notice version: sha256, id-free facts (first
 * seen, source, length) and, with with_text, the exact text ("text" if
 * UTF-8, else "text_base64"). */
json_t *ctl_notice_json(const struct store_notice *n, int with_text);

/* The import pipeline (ctl_batch.c): rows are copied into batches of
 * `batch` rows that a second thread sorts, applies and commits while the
 * caller reads on. reject is called (from that thread) for a row the store
 * refuses. push returns 0 or the STORE_E* that stopped the applier (the
 * caller should stop reading). finish(flush=1) applies what is left and
 * waits; finish(flush=0) abandons it. Both free b and return 0 or the
 * first store error; *out gets the counts. */
struct ctl_batcher;
struct ctl_batch_counts {
    unsigned long added, dups, batches;
};
typedef void (*ctl_reject_fn)(void *arg, unsigned long line);
int ctl_batcher_start(struct ctl_batcher **out, struct store *st, long batch, int dry_run,
                      ctl_reject_fn reject, void *arg);
int ctl_batcher_push(struct ctl_batcher *b, const struct store_event *ev,
                     unsigned long line);
int ctl_batcher_finish(struct ctl_batcher *b, int flush, struct ctl_batch_counts *out);

/* ctl_import_read - import's parser alone, without a store (ctl_import.c;
 * the fuzz harness): reads f, CSV or JSON lines as `import` tells them by
 * name and content, and hands each good row's event(s) to `to` in file
 * order with the row's line. It returns 0; STORE_EINVAL: the row is
 * reported as rejected and reading goes on; another STORE_E*: reading
 * stops. Bad rows are reported on stderr and counted in *bad. Returns 0,
 * -1 after an error for the whole file (reported with ctl_err), or the
 * STORE_E* that stopped it. */
typedef int (*ctl_push_fn)(void *arg, const struct store_event *ev, unsigned long line);
int ctl_import_read(struct ctl *c, const char *name, FILE *f, ctl_push_fn to, void *arg,
                    unsigned long *bad);

/* Commands implemented outside consentctl.c; each returns an exit code. */
int ctl_import(struct ctl *c, int argc, char **argv);
int ctl_proof(struct ctl *c, int argc, char **argv);
int ctl_export(struct ctl *c, int argc, char **argv);
int ctl_export_events(struct ctl *c, int argc, char **argv);
int ctl_inactive(struct ctl *c, int argc, char **argv);
int ctl_stats(struct ctl *c, int argc, char **argv);
int ctl_notice_cmd(struct ctl *c, int argc, char **argv);
int ctl_access(struct ctl *c, int argc, char **argv);
/* ctl_pg.c: the PostgreSQL primary. ctl_pg_connect prints the error and
 * returns an exit code; init = 1 skips the schema check (pg-init). */
struct pgstore;
int ctl_pg_connect(const struct ctl *c, int init, struct pgstore **pg);
int ctl_pg_init(struct ctl *c, int argc, char **argv);
/* ctl_pg_wanted - 1 if the commands go to the primary: --conninfo, or
 * --config FILE whose [store] backend is postgresql. */
int ctl_pg_wanted(const struct ctl *c);
/* ctl_pg_cmd.c (needs store/store_repl.h; ctl_pg_none.c otherwise):
 * record ev on the primary and print it; verify; erase. Exit codes. */
int ctl_pg_record(struct ctl *c, struct store_event *ev);
int ctl_pg_verify(struct ctl *c);
int ctl_pg_erase(struct ctl *c, const char *ctl, const char *rcpt, const char *actor);
/* ctl_migrate.c: migrate (LMDB store -> primary); verify --replica DIR. */
int ctl_migrate(struct ctl *c, int argc, char **argv);
int ctl_verify_replica(struct ctl *c);

#endif
