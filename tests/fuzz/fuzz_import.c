/* fuzz_import - libFuzzer harness on the parser of `consentctl import`
 * (ctl_import_read, ctl/ctl.h): CSV with a header line, or JSON lines.
 * The first input byte picks the name the file goes by (.csv, .jsonl, or
 * none: the content decides), the rest is the file, read from memory
 * (fmemopen). Each event a good row yields goes through
 * store_event_prepare, the validation and digests the importer's batches
 * run before their transaction, against a scratch store that is never
 * written. Bad rows are reported on stderr (run with -close_fd_mask=2).
 * Every input must end in 0, -1 or a store status; an event handed on must
 * carry a controller, a recipient, a time and its line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl/ctl.h"
#include "tests/fuzz/scratch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    st = scratch_store("fuzz-import");
    return 0;
}

static int take(void *arg, const struct store_event *ev, unsigned long line)
{
    unsigned long *n = arg;
    struct store_event copy = *ev;
    struct store_prep p;
    uint8_t rnd[32] = {1, 2, 3};

    if (line == 0 || ev->controller == NULL || ev->recipient == NULL || ev->time == 0)
        abort(); /* the parser lets a row through without what it requires */
    (*n)++;
    return store_event_prepare(st, &copy, rnd, &p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"fuzz.csv", "fuzz.jsonl", "-"};
    struct ctl c = {.cmd = "import"};
    unsigned long bad = 0, n = 0;
    FILE *f;
    int rc;

    if (size < 2 || size > (4u << 20))
        return 0;
    if ((f = fmemopen((void *)(data + 1), size - 1, "r")) == NULL)
        abort();
    rc = ctl_import_read(&c, names[data[0] % 3], f, take, &n, &bad);
    fclose(f);
    if (rc < -1)
        abort();
    return 0;
}
