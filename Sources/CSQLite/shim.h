// The system SQLite 3 (Debian: libsqlite3-dev), used by RigorStore.
#include <sqlite3.h>

// sqlite3_db_config is variadic, which Swift cannot call: one wrapper per option Rigor sets.
// SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE (SQLite 3.28+): closing the last connection leaves the WAL
// as it is instead of copying it into the database and syncing both.
static inline int rigor_sqlite_skip_checkpoint_on_close(sqlite3 *db) {
    int set = 0;
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &set);
}
