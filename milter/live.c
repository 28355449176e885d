/* live - the process-wide state of consent-milter: the live configuration
 * snapshot (policy/snap.h; main.c installs it, each connection retains it)
 * and the store handle (opened once, after daemonising).
 *
 * A file of its own, below every other one of milter/: the callbacks, the
 * decisions and end of message all read it, and main.c sets it, so no two
 * of them need to depend on each other for it. */
#include "milter/milter.h"

struct snap_slot mlt_live = SNAP_SLOT_INIT;
struct store *mlt_store;
