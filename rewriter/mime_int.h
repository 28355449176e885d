/* mime_int - private interface between mime.c and mime_ambig.c (both see
 * gmime objects; the rest of the engine does not). Not installed. */
#ifndef RW_MIME_INT_H
#define RW_MIME_INT_H

#include <stddef.h>

#include <gmime/gmime.h>

#include "rewriter/rw_engine.h"

/* rw_ambig_headers - RW_EAMBIG, with the reason in err, if the header
 * block of o is read differently by different readers (see mime_ambig.c);
 * else RW_OK. where names the entity in the reason ("in part 3"). */
int rw_ambig_headers(GMimeObject *o, const char *where, char *err, size_t errlen);

/* rw_ambig_delimiter - 1 if the line (after its "--", line end included or
 * not) starts with one of the boundaries (const char *, declared so far)
 * in a way only some readers take as a delimiter: RFC 2046 readers match
 * the boundary as a prefix, some ignore case, gmime wants the whole line.
 * Else 0. */
int rw_ambig_delimiter(const char *line, size_t n, GPtrArray *bounds);

#endif
