/* sigbus - a bus error on a mapped file as one line and an exit code.
 *
 * LMDB maps its file and trusts its pages: a page that points past the
 * end of a damaged or cut file is read as SIGBUS. A program whose only
 * mapped file is such a store calls cm_sigbus_exit once: a SIGBUS then
 * writes msg (a constant string, with its newline) to standard error and
 * ends the process with code. Returns 0, or -1 (sigaction failed). */
#ifndef CM_SIGBUS_H
#define CM_SIGBUS_H

int cm_sigbus_exit(const char *msg, int code);

#endif
