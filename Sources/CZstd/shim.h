// The system Zstandard library (Debian: libzstd-dev), used by RigorStore to compress blobs.
#include <zstd.h>
