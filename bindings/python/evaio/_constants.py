"""evaio.h's constants, without the EVAIO_ prefix (evaio.READDIR_DENTS is
EVAIO_READDIR_DENTS).  Hand-copied from runtime/include/evaio.h: the layout
test compiles a program printing every integer EVAIO_ macro of the header
and fails when one is missing here or has another value.  The operation
numbers (EVAIO_OP_NAME) come from the spec's table: evaio.OP_NAME.
"""

VERSION_MAJOR = 0
VERSION_MINOR = 1
VERSION_PATCH = 0

PRI_MIN = -4
PRI_MAX = 4
PRI_DEFAULT = 0

# openat2: resolve
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10
RESOLVE_CACHED = 0x20

# rename2: flags
RENAME_NOREPLACE = 1 << 0
RENAME_EXCHANGE = 1 << 1
RENAME_WHITEOUT = 1 << 2

# setxattr, lsetxattr, fsetxattr: flags
XATTR_CREATE = 1
XATTR_REPLACE = 2

# readdir, readdir_batch: flags, and the reported found flag
READDIR_DENTS = 0x01
READDIR_DIRS_FIRST = 0x02
READDIR_STAT_ORDER = 0x04
READDIR_FOUND_UNKNOWN = 0x80

# entry types (the DT_* values)
DT_UNKNOWN = 0
DT_FIFO = 1
DT_CHR = 2
DT_DIR = 4
DT_BLK = 6
DT_REG = 8
DT_LNK = 10
DT_SOCK = 12
DT_WHT = 14

# mtouch: flags
MTOUCH_WRITE = 0x01

# copy, move: flags
COPY_NOREPLACE = 1
COPY_SYNC = 2
MOVE_NOREPLACE = 1

# groups
OP_GROUP = 0
GRP_LIMIT_DEFAULT = 4
