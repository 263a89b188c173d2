// The system Zstandard library (Debian: libzstd-dev), used by RigorStore to compress blobs, and
// its dictionary builder (zdict.h, same package), used to train the store's dictionaries.
#include <zstd.h>
// The fastCover trainer with explicit parameters (exported by the shared library; declared
// only for static linkers).
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
