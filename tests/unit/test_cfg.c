/* Unit tests for policy/cfg: defaults, every key type, errors with line
 * numbers, domain inheritance and lookup, templates, refcounting. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/cfg.h"
#include "common/log.h"
#include "store/store.h"

static char confdir[512];

/* The real conf/ directory holds the footer templates every domain needs. */
static const char *conf_dir(void)
{
    const char *src = getenv("CM_SRCDIR");
    snprintf(confdir, sizeof confdir, "%s/conf", src ? src : ".");
    return confdir;
}

static struct cfg *load(const char *text, char *err, size_t errlen)
{
    return cfg_load_string(text, conf_dir(), err, errlen);
}

Test(cfg, defaults_when_empty)
{
    char err[256] = "";
    struct cfg *c = load("", err, sizeof err);
    cr_assert_not_null(c, "empty config must load: %s", err);
    cr_assert_str_eq(c->socket, "unix:/run/consent-milter/milter.sock");
    cr_assert_eq(c->on_error, CFG_ONERR_TEMPFAIL);
    cr_assert_eq(c->max_message_size, 50u * 1024 * 1024);
    cr_assert_eq(c->trace_header, 1);
    cr_assert_eq(c->log_level, LOG_LVL_INFO);
    cr_assert_eq(c->ndomains, 1);
    cr_assert_str_eq(c->domains[0].name, "*");
    cr_assert_null(c->domains[0].controller, "[domain *] controller means the sender domain");
    cr_assert_eq(c->domains[0].mode, CFG_MODE_ENFORCE);
    cr_assert_eq(c->domains[0].pixel_purposes, 1u << STORE_P_OPENS);
    cr_assert_not_null(c->domains[0].footer_html_tpl);
    cr_assert(strstr(c->domains[0].footer_html_tpl, "{withdraw_url}") != NULL);
    cfg_release(c);
}

Test(cfg, example_conf_loads)
{
    char err[256] = "", path[600];
    struct cfg *c;
    snprintf(path, sizeof path, "%s/example.conf", conf_dir());
    c = cfg_load(path, err, sizeof err);
    cr_assert_not_null(c, "example.conf: %s", err);
    const struct cfg_domain *d = cfg_domain_for(c, "news.brand.example");
    cr_assert_str_eq(d->name, "brand.example");
    cr_assert_str_eq(d->controller, "brand.example");
    cr_assert_str_eq(d->language, "fr");
    cr_assert_eq(d->ntransactional, 2);
    cr_assert_eq(d->transactional[1].is_header, 0);
    cr_assert_str_eq(d->transactional[1].pattern, "billing@brand.example");
    cr_assert(strstr(d->footer_html_tpl, "Ne plus") != NULL, "French footer expected");
    cr_assert_eq(cfg_domain_for(c, "other.example"), &c->domains[0]);
    cr_assert_eq(cfg_domain_for(c, "notbrand.example"), &c->domains[0],
                 "a suffix that is not a parent domain must not match");
    cfg_release(c);
}

struct bad_case {
    const char *text;
    const char *want; /* substring of the error */
};

Test(cfg, errors_name_the_line)
{
    static const struct bad_case cases[] = {
        {"[milter]\nsocket = unix:relative\n", "<string>:2: socket"},
        {"[milter]\n\nfoo = bar\n", "<string>:3: unknown key 'foo' in [milter]"},
        {"[nope]\nx = y\n", "<string>:2: unknown section [nope]"},
        {"[milter]\non_error = maybe\n", ":2: on_error"},
        {"[milter]\nmax_message_size = lots\n", ":2: max_message_size"},
        {"[milter]\nmax_message_size = -1\n", ":2: max_message_size"},
        {"[milter]\ntrace_header = perhaps\n", ":2: trace_header"},
        {"[milter]\nlog_level = loud\n", ":2: log_level"},
        {"[milter]\nworkers = 0\n", ":2: workers"},
        {"[milter]\n\nmetrics_textfile = rel/m.prom\n", "<string>:3: metrics_textfile"},
        {"[milter]\nmetrics_interval = 0\n", ":2: metrics_interval"},
        {"[milter]\nmetrics_interval = soon\n", ":2: metrics_interval"},
        {"[gate]\nurl = http://gate.example\n", ":2: url"},
        {"[gate]\nurl = https://g.example/?x=1\n", ":2: url"},
        {"[domain *]\nmode = sometimes\n", ":2: mode"},
        {"[domain *]\npixel_purposes = opens,spying\n", ":2: pixel_purposes"},
        {"[domain *]\ntransactional = subject:hello\n", ":2: transactional"},
        {"[domain *]\ntransactional = header:nocolon\n", ":2: transactional"},
        {"[domain b.example]\nfooter_html = /nonexistent/x.html\n", "cannot read template"},
        {"[domain bad_name!]\nmode = off\n", ":1: bad domain name"}, /* the header line */
        {"[domain x.example]\nbogus = 1\n", ":2: unknown key 'bogus'"},
        {"garbage line\n", ":1: syntax error"},
        {"[milter\n", ":1: syntax error"},
        {"[domain *]\nlanguage = pt\n", ":2: [domain *]: language = pt: no template"},
        {"[domain *]\nlanguage = deutsch\n", ":2: language"},
        {"[domain *]\nlanguage = d3\n", ":2: language"},
        {"[domain a.example]\nmode = off\n\nlanguage = xx\n", ":4: [domain a.example]"},
        {"[domain *]\njurisdiction = France\n", ":2: jurisdiction"},
        {"[domain *]\njurisdiction = F1\n", ":2: jurisdiction"},
        {"[domain *]\njurisdiction = \n", ":2: jurisdiction"},
        {"[domain *]\njurisdiction = FRA\n", ":2: jurisdiction"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        struct cfg *c = load(cases[i].text, err, sizeof err);
        cr_assert_null(c, "case %zu must fail: %s", i, cases[i].text);
        cr_assert(strstr(err, cases[i].want) != NULL, "case %zu: got \"%s\", want \"%s\"", i,
                  err, cases[i].want);
    }
}

/* The languages are the footers that exist; the message names the ones
 * there are. */
Test(cfg, languages_are_the_footers_that_exist)
{
    static const char *const langs[] = {"de", "en", "es", "fr", "it"};
    char text[128], err[512] = "";
    struct cfg *c;

    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        snprintf(text, sizeof text, "[domain x.example]\nlanguage = %s\n", langs[i]);
        c = load(text, err, sizeof err);
        cr_assert_not_null(c, "%s: %s", langs[i], err);
        cr_assert_str_eq(cfg_domain_for(c, "x.example")->language, langs[i]);
        cr_assert_not_null(strstr(cfg_domain_for(c, "x.example")->footer_html_tpl,
                                  "{withdraw_url}"));
        cfg_release(c);
    }
    c = load("[domain x.example]\nlanguage = DE\n", err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(cfg_domain_for(c, "x.example")->language, "de");
    cfg_release(c);
    cr_assert_null(load("[domain x.example]\nlanguage = pt\n", err, sizeof err));
    cr_assert_not_null(strstr(err, "(languages with templates: de, en, es, fr, it)"), "%s",
                       err);
}

/* jurisdiction: per domain, ISO 3166-1 alpha-2 (uppercased), [domain *]'s
 * for the others, FR if none. */
Test(cfg, jurisdiction_per_domain)
{
    char err[512] = "";
    struct cfg *c = load("[domain fr.example]\n[domain it.example]\njurisdiction = it\n",
                         err, sizeof err);

    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(cfg_domain_for(c, "fr.example")->jurisdiction, "FR");
    cr_assert_str_eq(cfg_domain_for(c, "it.example")->jurisdiction, "IT");
    cr_assert_str_eq(cfg_domain_for(c, "other.example")->jurisdiction, "FR");
    cfg_release(c);
    c = load("[domain *]\njurisdiction = DE\n[domain a.example]\n[domain b.example]\n"
             "jurisdiction = ES\n",
             err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(cfg_domain_for(c, "a.example")->jurisdiction, "DE");
    cr_assert_str_eq(cfg_domain_for(c, "b.example")->jurisdiction, "ES");
    cr_assert_str_eq(cfg_domain_for(c, "z.example")->jurisdiction, "DE");
    cfg_release(c);
}

Test(cfg, overlong_line_is_an_error_not_a_split)
{
    char *text = malloc(10000), err[256] = "";
    strcpy(text, "[milter]\ndatabase = /");
    memset(text + strlen(text), 'a', 8000);
    strcpy(text + 21 + 8000, "\n");
    cr_assert_null(load(text, err, sizeof err));
    cr_assert(strstr(err, ":2: line too long") != NULL, "got %s", err);
    free(text);
}

Test(cfg, domain_inherits_default_and_overrides)
{
    char err[256] = "";
    struct cfg *c = load("[domain *]\nclicks = free\nesp_headers = yes\n"
                         "transactional = sender:*@bills.example\n"
                         "[domain shop.example]\nesp_headers = no\n"
                         "auth = header:X-Auth: *\n"
                         "[domain news.example]\ntransactional = header:X-T: yes\n",
                         err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    const struct cfg_domain *s = cfg_domain_for(c, "shop.example");
    cr_assert_eq(s->clicks, CFG_CLICKS_FREE, "inherited from [domain *]");
    cr_assert_eq(s->esp_headers, 0, "overridden");
    cr_assert_str_eq(s->controller, "shop.example");
    cr_assert_eq(s->ntransactional, 1);
    cr_assert_str_eq(s->transactional[0].pattern, "*@bills.example");
    cr_assert_eq(s->nauth, 1);
    cr_assert_str_eq(s->auth[0].header, "X-Auth");
    const struct cfg_domain *n = cfg_domain_for(c, "NEWS.Example");
    cr_assert_eq(n->ntransactional, 1, "own rules replace inherited ones");
    cr_assert_str_eq(n->transactional[0].header, "X-T");
    cr_assert_str_eq(n->transactional[0].pattern, "yes");
    cfg_release(c);
}

Test(cfg, sizes_and_relative_paths)
{
    char err[256] = "";
    struct cfg *c = load("[milter]\nmax_message_size = 10M\nspool_threshold = 64k\n"
                         "rules = trackers.rules\n[gate]\nurl = http://127.0.0.1:8025/\n",
                         err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->max_message_size, 10u * 1024 * 1024);
    cr_assert_eq(c->spool_threshold, 64u * 1024);
    cr_assert(strstr(c->rules, "/conf/trackers.rules") != NULL, "got %s", c->rules);
    cr_assert_str_eq(c->gate_url, "http://127.0.0.1:8025", "trailing slash removed");
    cfg_release(c);
}

Test(cfg, unknown_placeholder_in_template_is_refused)
{
    char dir[] = "/tmp/cfgtplXXXXXX", path[600], err[512] = "", text[1400];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f.html", dir);
    FILE *f = fopen(path, "w");
    fputs("<a href=\"{withdraw_link}\">x</a>", f);
    fclose(f);
    snprintf(text, sizeof text, "[domain *]\nfooter_html = %s\n", path);
    cr_assert_null(load(text, err, sizeof err));
    cr_assert(strstr(err, "unknown placeholder {withdraw_link}") != NULL, "got %s", err);
    unlink(path);
    rmdir(dir);
}

Test(cfg, retain_release_and_dump)
{
    char err[256] = "";
    struct cfg *c = load("[domain a.example]\nmode = monitor\n", err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(cfg_retain(c), c);
    cfg_release(c);
    char *d = cfg_dump(c);
    cr_assert(strstr(d, "[domain a.example]\ncontroller = a.example\nmode = monitor\n") != NULL,
              "dump:\n%s", d);
    free(d);
    cfg_release(c);
    cfg_release(NULL);
}

/* A section with no keys of its own still declares the brand: its
 * subdomains map to it (SPEC §4.2), with the domain as controller, instead
 * of falling to [domain *] with the subdomain as controller. */
Test(cfg, empty_domain_section_still_declares_the_domain)
{
    char err[256] = "";
    struct cfg *c = load("[domain *]\nclicks = free\n"
                         "[domain brand.example]\n"
                         "# defaults are fine here\n"
                         "[domain other.example]\n",
                         err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    const struct cfg_domain *d = cfg_domain_for(c, "news.brand.example");
    cr_assert_str_eq(d->name, "brand.example", "got [domain %s]", d->name);
    cr_assert_str_eq(d->controller, "brand.example");
    cr_assert_eq(d->clicks, CFG_CLICKS_FREE, "still inherits [domain *]");
    cr_assert_str_eq(cfg_domain_for(c, "other.example")->name, "other.example");
    cfg_release(c);
    c = load("[domain bad_name!]\n", err, sizeof err);
    cr_assert_null(c, "a bad name in an empty section is still refused");
    cr_assert(strstr(err, ":1:") != NULL, "error names the line: %s", err);
}

Test(cfg, nul_byte_in_file_is_an_error_naming_the_line)
{
    char path[] = "/tmp/cfgnulXXXXXX", err[256] = "";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "[milter]\nlog_level = in\0fo\n", 27), 27);
    close(fd);
    cr_assert_null(cfg_load(path, err, sizeof err));
    cr_assert(strstr(err, ":2: NUL byte") != NULL, "got %s", err);
    unlink(path);
}

/* A repeated key or section used to pass, the last one silently winning:
 * each is refused, naming its line and the earlier one. */
Test(cfg, repeated_key_or_section_is_refused_naming_both_lines)
{
    static const struct bad_case cases[] = {
        {"[milter]\ntimeout = 5\n\ntimeout = 9\n",
         "<string>:4: key 'timeout' repeated in [milter] (first at line 2)"},
        {"[gate]\nthreads = 2\n[milter]\n[gate]\n",
         "<string>:4: section [gate] repeated (first at line 1)"},
        {"[domain a.example]\nmode = off\nMode = monitor\n",
         "<string>:3: key 'Mode' repeated in [domain a.example] (first at line 2)"},
        {"[domain *]\ntransactional = sender:a@*\ntransactional = sender:b@*\n",
         ":3: key 'transactional' repeated in [domain *] (first at line 2)"},
        {"[domain a.example]\nmode = off\n[domain b.example]\n[domain A.example]\n"
         "mode = enforce\n",
         "<string>:4: section [domain A.example] repeated (first at line 1)"},
        {"[domain a.example]\n[domain a.example]\n",
         "<string>:2: section [domain a.example] repeated (first at line 1)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        struct cfg *c = load(cases[i].text, err, sizeof err);
        cr_assert_null(c, "case %zu must fail: %s", i, cases[i].text);
        cr_assert(strstr(err, cases[i].want) != NULL, "case %zu: got \"%s\", want \"%s\"", i,
                  err, cases[i].want);
    }
}

Test(cfg, unknown_user_is_refused)
{
    char err[256] = "";
    struct cfg *c = load("[milter]\n\nuser = no-such-user-cm\n", err, sizeof err);
    cr_assert_null(c, "an unknown user must not pass -n");
    cr_assert(strstr(err, "<string>:3: user: no such user 'no-such-user-cm'") != NULL,
              "got %s", err);
    c = load("[milter]\nuser = root\n", err, sizeof err);
    cr_assert_not_null(c, "root exists: %s", err);
    cfg_release(c);
}

/* [store] (issue 11): without the section everything is lmdb on the
 * milter's own database; with it, every key parsed and checked. */
Test(cfg, store_section_defaults_and_values)
{
    char err[256] = "";
    struct cfg *c = load("[milter]\ndatabase = /var/lib/cm-test\n", err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_expect_eq(c->store_backend, CFG_STORE_LMDB);
    cr_expect_null(c->store_conninfo);
    cr_expect_null(c->store_passfile);
    cr_expect_str_eq(c->store_replica, "/var/lib/cm-test", "replica defaults to database");
    cr_expect_eq(c->store_max_staleness, 60);
    cr_expect_eq(c->store_poll_interval, 5);
    cfg_release(c);

    c = load("[store]\nbackend = postgresql\n"
             "conninfo = host=/run/postgresql dbname=consent user=consent_relay\n"
             "passfile = pgpass-does-not-exist\nreplica = /var/lib/replica\n"
             "max_staleness = 30\npoll_interval = 2\n",
             err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_expect_eq(c->store_backend, CFG_STORE_PG);
    cr_expect_str_eq(c->store_conninfo,
                     "host=/run/postgresql dbname=consent user=consent_relay");
    cr_expect(strstr(c->store_passfile, "/pgpass-does-not-exist") != NULL &&
                  c->store_passfile[0] == '/',
              "passfile resolves against the config's directory: %s", c->store_passfile);
    cr_expect_str_eq(c->store_replica, "/var/lib/replica");
    cr_expect_eq(c->store_max_staleness, 30);
    cr_expect_eq(c->store_poll_interval, 2);
    char *d = cfg_dump(c);
    cr_expect(strstr(d, "[store]\nbackend = postgresql\n") != NULL, "%s", d);
    free(d);
    cfg_release(c);

    c = load("[store]\nconninfo = postgresql://relay@db.example:5432/consent?sslmode=require\n",
             err, sizeof err);
    cr_assert_not_null(c, "a URI without password is fine: %s", err);
    cfg_release(c);
}

Test(cfg, store_bad_values_name_the_line)
{
    static const struct bad_case cases[] = {
        {"[store]\nbackend = mysql\n", "<string>:2: backend"},
        {"[store]\n\nconninfo = host=db password=secret\n",
         "<string>:3: conninfo: a password in the connection string"},
        {"[store]\nconninfo = host=db PASSWORD = 'x y'\n", ":2: conninfo: a password"},
        {"[store]\nconninfo = postgresql://u:secret@db/consent\n", ":2: conninfo: a password"},
        {"[store]\nconninfo = postgres://u@db/c?sslmode=require&password=x\n",
         ":2: conninfo: a password"},
        {"[store]\nconninfo = dbname='host=db password=x'\n", ":2: conninfo: a password"},
        {"[store]\nconninfo = host='unterminated\n", ":2: conninfo: unterminated quote"},
        {"[store]\nconninfo = justtext\n", ":2: conninfo: expected key=value"},
        {"[store]\nmax_staleness = 0\n", ":2: max_staleness"},
        {"[store]\nmax_staleness = soon\n", ":2: max_staleness"},
        {"[store]\npoll_interval = 0\n", ":2: poll_interval"},
        {"[store]\npoll_interval = 99999\n", ":2: poll_interval"},
        {"[store]\nreplica = \n", ":2: replica"},
        {"[store]\nfoo = 1\n", ":2: unknown key 'foo' in [store]"},
        {"[store]\nbackend = lmdb\n[store]\n", ":3: section [store] repeated (first at line 1)"},
        {"[store]\nmax_staleness = 5\nmax_staleness = 6\n",
         ":3: key 'max_staleness' repeated in [store]"},
        {"[milter]\n[store]\nbackend = postgresql\n",
         ":3: backend = postgresql needs conninfo"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        struct cfg *c = load(cases[i].text, err, sizeof err);
        cr_assert_null(c, "case %zu must fail: %s", i, cases[i].text);
        cr_assert(strstr(err, cases[i].want) != NULL, "case %zu: got \"%s\", want \"%s\"", i,
                  err, cases[i].want);
    }
}

/* libpq ignores a password file others can read; the configuration says
 * so at load, naming the line. */
Test(cfg, store_passfile_readable_by_others_is_refused)
{
    char dir[] = "/tmp/cm-cfg-XXXXXX", path[64], text[160], err[256] = "";
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pgpass", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("*:*:*:*:x\n", f);
    fclose(f);
    cr_assert_eq(chmod(path, 0644), 0);
    snprintf(text, sizeof text, "[store]\nbackend = lmdb\npassfile = %s\n", path);
    struct cfg *c = load(text, err, sizeof err);
    cr_expect_null(c);
    cr_expect(strstr(err, ":3: passfile:") != NULL && strstr(err, "0600") != NULL, "%s",
              err);
    cfg_release(c);
    cr_assert_eq(chmod(path, 0600), 0);
    c = load(text, err, sizeof err);
    cr_expect_not_null(c, "%s", err);
    cfg_release(c);
    unlink(path);
    rmdir(dir);
}

/* cfg_dump's text loads again (consent-milter -n -v, tests/fuzz/fuzz_cfg.c). */
static void expect_dump_reloads(const struct cfg *c)
{
    char err[256] = "";
    char *dump = cfg_dump(c);
    struct cfg *again = load(dump, err, sizeof err);
    cr_expect_not_null(again, "the dump loads again: %s\n%s", err, dump);
    cfg_release(again);
    free(dump);
}

/* libinih keeps at most 49 bytes of a section name: a longer [domain]
 * header once put its keys in a section of the cut name, and the domain
 * itself got the defaults (found by tests/fuzz/fuzz_cfg.c). */
Test(cfg, long_domain_name_keeps_its_keys)
{
    char err[256] = "";
    const char *name = "newsletter.marketing.a-rather-long-brand-name.example";
    char text[512];
    snprintf(text, sizeof text, "[domain %s]\nmode = never-track\n", name);
    struct cfg *c = load(text, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->ndomains, 2, "one section, beside [domain *]: %zu", c->ndomains);
    const struct cfg_domain *d = cfg_domain_for(c, name);
    cr_assert_str_eq(d->name, name);
    cr_expect_eq(d->mode, CFG_MODE_NEVER_TRACK);
    expect_dump_reloads(c);
    cfg_release(c);

    char huge[700];
    snprintf(huge, sizeof huge, "[domain %0300d.example]\nmode = off\n", 0);
    cr_expect_null(load(huge, err, sizeof err), "a name longer than a domain can be");
}

/* A blank before the colon of "header:NAME :" once cut the rule's text
 * there (cfg_trim writes in place), so the dump printed a rule without its
 * pattern, which did not load again (found by tests/fuzz/fuzz_cfg.c). */
Test(cfg, class_rule_text_is_the_rule_as_written)
{
    char err[256] = "";
    struct cfg *c = load("[domain a.example]\n"
                         "transactional = header:X-Mail-Class :receipt*; sender:billing@*\n",
                         err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    const struct cfg_domain *d = cfg_domain_for(c, "a.example");
    cr_assert_eq(d->ntransactional, 2);
    cr_expect_str_eq(d->transactional[0].text, "header:X-Mail-Class :receipt*");
    cr_expect_str_eq(d->transactional[0].header, "X-Mail-Class");
    cr_expect_str_eq(d->transactional[0].pattern, "receipt*");
    cr_expect_str_eq(d->transactional[1].text, "sender:billing@*");
    expect_dump_reloads(c);
    cfg_release(c);
}

/* conf(5): relative paths resolve against the configuration's directory,
 * for every path key (a daemon chdirs to / at start); absolute ones stay. */
Test(cfg, every_relative_path_resolves_against_the_config_dir)
{
    char err[256] = "", want[4096];
    struct cfg *c = load("[milter]\ndatabase = db\nspool_dir = spool\npid_file = run/m.pid\n"
                         "[store]\nbackend = postgresql\nconninfo = dbname=consent\n"
                         "replica = rep\n",
                         err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    const char *got[] = {c->database, c->spool_dir, c->pid_file, c->store_replica};
    const char *rel[] = {"db", "spool", "run/m.pid", "rep"};
    for (int i = 0; i < 4; i++) {
        snprintf(want, sizeof want, "%s/%s", conf_dir(), rel[i]);
        cr_expect_str_eq(got[i], want, "%s", rel[i]);
    }
    cfg_release(c);
    c = load("[milter]\ndatabase = db\n", err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    snprintf(want, sizeof want, "%s/db", conf_dir());
    cr_expect_str_eq(c->store_replica, want, "the replica defaults to the resolved database");
    cfg_release(c);
    c = load("[milter]\ndatabase = /var/lib/x\nspool_dir = /tmp\n", err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_expect_str_eq(c->database, "/var/lib/x");
    cr_expect_str_eq(c->spool_dir, "/tmp");
    cfg_release(c);
}
