// The system Zstandard library (Debian: libzstd-dev), used by RigorStore to compress blobs, and
// its dictionary builder (zdict.h, same package), used to train the store's dictionaries.
#include <zstd.h>
#include <zdict.h>
