/* replay_main - run the libFuzzer harness over files without libFuzzer
 * (gcc builds, make fuzz-replay): each argument is one input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    gchar *data;
    gsize len;
    int i, n = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        if (!g_file_get_contents(argv[i], &data, &len, NULL)) {
            fprintf(stderr, "fuzz-replay: cannot read %s\n", argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        g_free(data);
        n++;
    }
    printf("fuzz-replay: %d inputs replayed, no crash\n", n);
    return 0;
}
