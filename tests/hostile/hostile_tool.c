/* hostile_tool - helpers of the hostile-input suite (tests/hostile/run.sh).
 *
 *   hostile-tool rss OUT CMD [ARG...]
 *       Runs CMD with the same stdin, stdout and stderr, writes its peak
 *       RSS in KiB (wait4's ru_maxrss) to the file OUT and exits with
 *       CMD's exit code (128 + the signal if a signal ended it).
 *   hostile-tool mime FILE [--clean] [--leaves N] [--absent TEXT]... [--present TEXT]...
 *       Parses FILE as a message with GMime. Checks that it is a message
 *       with a MIME body; with --clean, that the parser warned of no
 *       truncated message, malformed multipart or critical issue (a missing
 *       close delimiter, a multipart without boundary, a bad header name);
 *       that it has exactly N leaf parts (if given), and that no
 *       TEXT given with --absent occurs, and every --present one does, in
 *       the headers or the transfer-decoded content of any leaf part.
 *       Prints one line "mime: ..." and exits 0 when every check holds, 1
 *       otherwise, 2 on usage or I/O errors.
 *
 * The searches run over the decoded bytes, not the raw file: a tracker URL
 * survives just as well inside base64 or split by quoted-printable soft
 * line breaks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmime/gmime.h>

#define MAX_TEXTS 32

struct want {
    const char *absent[MAX_TEXTS], *present[MAX_TEXTS];
    int nabsent, npresent, found[MAX_TEXTS];
    long leaves;
    int issues, bad;
};

static int cmd_rss(int argc, char **argv)
{
    struct rusage ru;
    int st;
    pid_t pid;
    FILE *out;

    if (argc < 4) {
        fprintf(stderr, "usage: hostile-tool rss OUT CMD [ARG...]\n");
        return 2;
    }
    if ((pid = fork()) < 0) {
        perror("hostile-tool: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[3], argv + 3);
        fprintf(stderr, "hostile-tool: %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR) {
            perror("hostile-tool: wait4");
            return 2;
        }
    if ((out = fopen(argv[2], "w")) == NULL || fprintf(out, "%ld\n", ru.ru_maxrss) < 0
        || fclose(out) != 0) {
        perror(argv[2]);
        return 2;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Searches one block of bytes (a part's headers or decoded content). */
static void search(struct want *w, const char *p, size_t n)
{
    for (int i = 0; i < w->nabsent; i++)
        if (memmem(p, n, w->absent[i], strlen(w->absent[i])) != NULL) {
            printf("mime: found \"%s\"\n", w->absent[i]);
            w->bad = 1;
        }
    for (int i = 0; i < w->npresent; i++)
        if (memmem(p, n, w->present[i], strlen(w->present[i])) != NULL)
            w->found[i] = 1;
}

static void search_headers(struct want *w, GMimeObject *obj)
{
    char *h = g_mime_object_get_headers(obj, NULL);

    search(w, h, strlen(h));
    g_free(h);
}

static void visit(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    struct want *w = data;
    GMimeDataWrapper *content;
    GMimeStream *mem;
    GByteArray *bytes;

    (void)parent;
    if (GMIME_IS_MULTIPART(part))
        return;
    w->leaves++;
    search_headers(w, part);
    if (!GMIME_IS_PART(part))
        return;
    if ((content = g_mime_part_get_content(GMIME_PART(part))) == NULL)
        return;
    mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(content, mem);
    bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    search(w, (const char *)bytes->data, bytes->len);
    g_object_unref(mem);
}

/* The parser's complaints that mean a reader may see another structure. */
static void on_issue(gint64 offset, GMimeParserWarning errcode, const gchar *item, gpointer data)
{
    struct want *w = data;

    if (errcode == GMIME_WARN_MALFORMED_MULTIPART || errcode == GMIME_WARN_TRUNCATED_MESSAGE
        || errcode == GMIME_WARN_MALFORMED_MESSAGE || errcode == GMIME_CRIT_INVALID_HEADER_NAME
        || errcode == GMIME_CRIT_CONFLICTING_HEADER || errcode == GMIME_CRIT_CONFLICTING_PARAMETER
        || errcode == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY || errcode == GMIME_CRIT_NESTING_OVERFLOW
        || errcode == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT) {
        printf("mime: parser issue %d at offset %lld%s%s\n", (int)errcode, (long long)offset,
               item != NULL ? ": " : "", item != NULL ? item : "");
        w->issues++;
    }
}

static int cmd_mime(int argc, char **argv)
{
    struct want w;
    long leaves = -1;
    int clean = 0;
    GMimeParserOptions *opts;
    GMimeStream *st;
    GMimeParser *parser;
    GMimeMessage *msg;
    GMimeObject *body;
    FILE *f;

    memset(&w, 0, sizeof w);
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--clean") == 0) {
            clean = 1;
            continue;
        }
        if (i + 1 >= argc)
            goto usage;
        if (strcmp(argv[i], "--leaves") == 0)
            leaves = atol(argv[++i]);
        else if (strcmp(argv[i], "--absent") == 0 && w.nabsent < MAX_TEXTS)
            w.absent[w.nabsent++] = argv[++i];
        else if (strcmp(argv[i], "--present") == 0 && w.npresent < MAX_TEXTS)
            w.present[w.npresent++] = argv[++i];
        else
            goto usage;
    }
    if (argc < 3)
        goto usage;
    if ((f = fopen(argv[2], "rb")) == NULL) {
        perror(argv[2]);
        return 2;
    }
    g_mime_init();
    st = g_mime_stream_file_new(f);
    parser = g_mime_parser_new_with_stream(st);
    opts = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(opts, on_issue, &w);
    msg = g_mime_parser_construct_message(parser, opts);
    g_mime_parser_options_free(opts);
    g_object_unref(parser);
    g_object_unref(st);
    body = msg != NULL ? g_mime_message_get_mime_part(msg) : NULL;
    if (body == NULL) {
        printf("mime: %s does not parse as a MIME message\n", argv[2]);
        return 1;
    }
    search_headers(&w, GMIME_OBJECT(msg));
    if (GMIME_IS_MULTIPART(body)) {
        visit(NULL, body, &w);
        g_mime_multipart_foreach(GMIME_MULTIPART(body), visit, &w);
    } else {
        visit(NULL, body, &w);
    }
    g_object_unref(msg);
    for (int i = 0; i < w.npresent; i++)
        if (!w.found[i]) {
            printf("mime: \"%s\" missing\n", w.present[i]);
            w.bad = 1;
        }
    if (clean && w.issues > 0)
        w.bad = 1;
    if (leaves >= 0 && w.leaves != leaves) {
        printf("mime: %ld leaf parts, expected %ld\n", w.leaves, leaves);
        w.bad = 1;
    }
    if (!w.bad)
        printf("mime: ok, %ld leaf part(s)\n", w.leaves);
    return w.bad;
usage:
    fprintf(stderr, "usage: hostile-tool mime FILE [--clean] [--leaves N] [--absent TEXT]... "
                    "[--present TEXT]...\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "rss") == 0)
        return cmd_rss(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "mime") == 0)
        return cmd_mime(argc, argv);
    fprintf(stderr, "usage: hostile-tool rss|mime ...\n");
    return 2;
}
