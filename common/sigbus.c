/* sigbus - see sigbus.h. */
#include "common/sigbus.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char *sigbus_msg;
static int sigbus_code;

static void on_sigbus(int sig)
{
    (void)sig;
    if (write(2, sigbus_msg, strlen(sigbus_msg)) < 0) {
        /* nothing more to say */
    }
    _exit(sigbus_code);
}

int cm_sigbus_exit(const char *msg, int code)
{
    struct sigaction sa;

    sigbus_msg = msg;
    sigbus_code = code;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, NULL);
}
