"""Loading and validating the evaio operation table (spec/ops.toml).

The semantic argument types live here: each says, once for every operation,
what C type a parameter has, whether it is copied at submit, whether NULL is
refused, and whether the library supplies storage when the caller passes NULL.
"""

import keyword
import re
import tomllib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ArgType:
    ctype: str              # C type of the parameter and of its storage
    doc: str                # what the reference says about the type
    copied: str = ""        # a wrapper copies it into the request: "string" or "array" (size elements)
    nonnull: bool = False   # NULL is refused with EFAULT
    sized: str = ""         # needs `size = "<arg>"` naming an argument of this type ("length", "count")
    struct: bool = False    # needs `ctype = "struct x"`; ctype is a pointer to it
    auto: str = ""          # when NULL, the library supplies storage: "size" or "struct"
    output_only: bool = False  # filled in by the executor, never passed by the caller
    resolved: bool = False  # a path resolved relative to the request's working directory
    handed: bool = False    # an output the caller takes over (it outlives the callback)
    # The bad-input cases generated/tests/test_bad_input.c runs for an argument
    # of this type, each (case, errno expected by default); an op's bad_input
    # field may change the errno or mark a case accepted (see BAD_CASES).
    bad: tuple = ()


TYPES = {
    "fd": ArgType("int", "a file descriptor", bad=(("negative", "EBADF"), ("closed", "EBADF"))),
    "path": ArgType("const char *", "a path, resolved relative to the request's working directory; wrappers copy it, "
                    "caller-owned requests borrow it until the callback runs",
                    copied="string", nonnull=True, resolved=True,
                    bad=(("null", "EFAULT"), ("empty", "ENOENT"), ("too_long", "ENAMETOOLONG"))),
    "string": ArgType("const char *", "a string (not a path: never resolved); wrappers copy it, caller-owned requests "
                      "borrow it until the callback runs", copied="string", nonnull=True,
                      bad=(("null", "EFAULT"),)),
    "offset": ArgType("int64_t", "a file offset in bytes"),
    "length": ArgType("size_t", "a length in bytes"),
    "count": ArgType("int", "a number of elements"),
    "flags": ArgType("int", "flag bits", bad=(("invalid", "EINVAL"),)),
    "mode": ArgType("mode_t", "permission bits"),
    "int": ArgType("int", "an integer"),
    "uint": ArgType("unsigned", "an unsigned integer"),
    "ulong": ArgType("unsigned long", "an unsigned long integer"),
    "intptr": ArgType("intptr_t", "an integer or a pointer cast to one"),
    "uid": ArgType("uid_t", "a user id; (uid_t)-1 leaves it unchanged"),
    "gid": ArgType("gid_t", "a group id; (gid_t)-1 leaves it unchanged"),
    "dev": ArgType("dev_t", "a device number"),
    "time": ArgType("struct timespec", "a time in seconds and nanoseconds; tv_nsec may be UTIME_NOW or UTIME_OMIT"),
    "seconds": ArgType("double", "a duration in seconds"),
    "function": ArgType("evaio_exec_fn", "a function run on a worker thread", nonnull=True,
                        bad=(("null", "EFAULT"),)),
    "address": ArgType("void *", "an address in this process's memory"),
    "wd": ArgType("evaio_wd *", "a working-directory handle from wd_open", nonnull=True,
                  bad=(("null", "EFAULT"),)),
    "dir": ArgType("evaio_dir *", "a directory stream from opendir", nonnull=True,
                   bad=(("null", "EFAULT"),)),
    "buffer_in": ArgType("const void *", "the caller's buffer, read until the callback runs", sized="length",
                         bad=(("huge_null", "EFAULT"),)),
    "buffer_out": ArgType("void *", "the caller's buffer, or NULL for one the library allocates and frees after the callback",
                          sized="length", auto="size", bad=(("huge_null", "ENOMEM"),)),
    "buffer_opt": ArgType("void *", "the caller's buffer, or NULL: the executor then allocates what it needs",
                          sized="length"),
    "iovec": ArgType("const struct iovec *", "the caller's buffers; wrappers copy the array (not the buffers), "
                     "caller-owned requests borrow it until the callback runs", copied="array", sized="count",
                     bad=(("null", "EFAULT"),)),
    "out_struct": ArgType("*", "the caller's struct, or NULL for one the library supplies until the callback returns",
                          struct=True, auto="struct"),
    "names": ArgType("char *", "NUL-separated names owned by the library until the callback returns",
                     output_only=True),
    "text": ArgType("char *", "a NUL-terminated string owned by the library until the callback returns",
                    output_only=True),
    "bytes": ArgType("void *", "bytes: the caller's buffer, or library memory freed after the callback returns",
                     output_only=True),
    "array": ArgType("*", "an array of `result` elements owned by the library until the callback returns",
                     output_only=True, struct=True),
    "flags_out": ArgType("int", "flags the operation reports", output_only=True),
    "count_out": ArgType("int", "a count the operation reports", output_only=True),
    "new_wd": ArgType("evaio_wd *", "a working-directory handle the caller now owns: release it with wd_close",
                      output_only=True, handed=True),
    "new_dir": ArgType("evaio_dir *", "a directory stream the caller now owns: release it with closedir",
                       output_only=True, handed=True),
}

# The bad-input cases, by name: what the bad value is.  Which apply to an
# argument is its type's `bad`; generated/tests/test_bad_input.c runs them.
BAD_CASES = {
    "null": "NULL (an iovec: NULL with a count of 1)",
    "empty": "the empty string",
    "too_long": "a path longer than PATH_MAX",
    "negative": "a negative descriptor (-1, INT_MIN)",
    "closed": "a descriptor number that is not open",
    "huge_null": "a NULL buffer with a huge length (SIZE_MAX)",
    "invalid": "flags -1, and a high bit no flag uses (0x40000000)",
}

RESULTS = {
    "none": "0",
    "int": "0 on success, -1 on failure",
    "fd": "the new file descriptor, -1 on failure",
    "ssize": "the number of bytes transferred, -1 on failure",
    "count": "the number of entries, -1 on failure",
    "offset": "the resulting file offset, -1 on failure",
    "length": "the length of the string output, without its NUL, -1 on failure",
    "size": "the size in bytes of the output, -1 on failure",
    "value": "the call's own non-negative value (0 for most requests), -1 on failure",
}

OP_KEYS = {"name", "id", "summary", "doc", "args", "outputs", "result", "call", "exec", "when", "uring",
           "errors", "notes", "headers", "eintr", "drive", "bad_input", "nowait"}
ARG_KEYS = {"name", "type", "size", "ctype"}
# Names the runtime uses in the evaio_ / evaio_ctx_ / EVAIO_OP_ namespaces (see
# runtime/include/evaio.h), and names the generated code uses for its own
# parameters and locals.  Op names starting with "ctx_" are refused too: op
# "ctx_x" would be evaio_ctx_x, the context wrapper of an op "x".
RESERVED_OPS = {
    # evaio_ctx_NAME
    "new", "free", "start", "poll", "poll_fd", "wait", "nreqs", "nready", "npending", "nthreads",
    "set_hooks", "set_max_poll_reqs", "set_max_poll_time", "set_min_parallel", "set_max_parallel",
    "set_max_idle", "set_idle_timeout", "set_max_running",
    # evaio_NAME
    "ctx", "req", "cb", "hook", "exec_fn", "default_ctx", "req_set_pri", "req_pri", "req_size",
    "req_set_wd", "req_wd", "wd", "wd_fd", "dir",
    "cancel", "req_cancelled", "grp", "grp_init", "grp_add", "grp_feed", "grp_limit", "grp_outstanding",
    "group",
    "op_name",
    # enum evaio_op, union evaio_op_args, EVAIO_OP_COUNT
    "op", "count", "default",
}
# The Python binding's functions take callback, full and (methods) self
# besides an op's arguments.
RESERVED_ARGS = {"req", "ctx", "pri", "cb", "data", "a", "result", "size", "base", "errno", "wd", "dirfd",
                 "callback", "full", "self"}
# The generated code is C whose headers also compile as C++, and bindings may
# expose op and argument names as attributes: none of them may be a keyword.
C_KEYWORDS = {
    # C11
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while",
    # C23
    "alignas", "alignof", "bool", "constexpr", "false", "nullptr", "static_assert", "thread_local",
    "true", "typeof", "typeof_unqual",
    # C++, including the alternative operator spellings
    "and", "and_eq", "asm", "bitand", "bitor", "catch", "char8_t", "char16_t", "char32_t", "class",
    "compl", "concept", "consteval", "constinit", "const_cast", "co_await", "co_return", "co_yield",
    "decltype", "delete", "dynamic_cast", "explicit", "export", "friend", "mutable", "namespace", "new",
    "noexcept", "not", "not_eq", "operator", "or", "or_eq", "private", "protected", "public",
    "reinterpret_cast", "requires", "static_cast", "template", "this", "throw", "try", "typeid",
    "typename", "using", "virtual", "wchar_t", "xor", "xor_eq",
}
IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def is_keyword(name):
    """A C, C++ or Python keyword."""
    return name in C_KEYWORDS or keyword.iskeyword(name)


class SpecError(Exception):
    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Arg:
    name: str
    type: str
    ctype: str
    kind: ArgType
    size: str = ""
    struct_type: str = ""


@dataclass
class Op:
    name: str
    id: int
    summary: str
    doc: str
    args: list
    outputs: list
    result: str
    call: str
    exec: str
    drive: str
    when: str
    uring: str
    errors: list = field(default_factory=list)   # "ENAME: when" lines for the reference
    notes: str = ""                               # platform notes and emulations, for the reference
    headers: list = field(default_factory=list)  # system headers the call needs
    eintr: bool = True                            # a call failing with EINTR is repeated
    nowait: str = ""                              # an attempt on the submitting thread that never blocks
    # bad-input cases that differ from their type's default, for the generated
    # test: (case, arg) -> the errno names it may report, or [] when the op
    # accepts the value
    bad_input: dict = field(default_factory=dict)
    fields: list = field(default_factory=list)  # args + outputs

    @property
    def resolves(self):
        """Whether the op has path arguments (and so an _at form)."""
        return any(a.kind.resolved for a in self.args)


def load(path, name=None):
    """Reads and validates a spec file; raises SpecError listing every problem.

    Each error is one line starting with `name` (default: the path), e.g.
    "spec/ops.toml: op 'sendfile': arg 'count': unknown type 'sizet'"."""
    where = name or str(path)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except OSError as e:
        raise SpecError([f"{where}: cannot read: {e.strerror}"])
    except tomllib.TOMLDecodeError as e:
        raise SpecError([f"{where}: {e}"])
    return validate(raw, where)


def validate(raw, where):
    errors = []
    unknown = set(raw) - {"op"}
    for key in sorted(unknown):
        errors.append(f"{where}: unknown top-level key '{key}'")
    entries = raw.get("op", [])
    if not isinstance(entries, list) or not entries:
        errors.append(f"{where}: no [[op]] entries")
        raise SpecError(errors)

    ops, names, ids = [], {}, {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            errors.append(f"{where}: op #{index + 1}: must be a table ([[op]])")
            continue
        op = _validate_op(entry, index, where, errors)
        if op is None:
            continue
        if op.name in names:
            errors.append(f"{where}: op '{op.name}': name: duplicate of entry {names[op.name] + 1}")
        else:
            names[op.name] = index
        if op.id in ids:
            errors.append(f"{where}: op '{op.name}': id: {op.id} already used by op '{ids[op.id]}'")
        else:
            ids[op.id] = op.name
        ops.append(op)
    # evaio_X_init and evaio_X_at belong to op X: no op may be named so.
    for op in ops:
        for suffix in ("_init", "_at"):
            base = op.name[:-len(suffix)] if op.name.endswith(suffix) else None
            if base in names and (suffix == "_init" or ops[[o.name for o in ops].index(base)].resolves):
                errors.append(f"{where}: op '{op.name}': name: clashes with evaio_{op.name} of op '{base}'")
    if errors:
        raise SpecError(errors)
    return ops


def _validate_op(entry, index, where, errors):
    name = entry.get("name")
    label = f"op '{name}'" if isinstance(name, str) else f"op #{index + 1}"
    before = len(errors)

    def err(fieldname, message):
        errors.append(f"{where}: {label}: {fieldname}: {message}")

    for key in sorted(set(entry) - OP_KEYS):
        err(key, "unknown field")
    if not isinstance(name, str) or not IDENT.match(name):
        err("name", "must be a lower-case C identifier")
    elif name in RESERVED_OPS or is_keyword(name) or name.startswith("ctx_"):
        err("name", f"'{name}' is reserved")
    op_id = entry.get("id")
    if not isinstance(op_id, int) or isinstance(op_id, bool) or not 1 <= op_id <= 65535:
        err("id", "must be an integer from 1 to 65535")
    for key in ("summary", "doc"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            err(key, "must be a non-empty string")
        elif key == "summary" and "\n" in value.strip():
            err(key, "must be one line")
        elif key == "summary" and "*/" in value:
            err(key, "must not contain '*/' (it is copied into C comments)")
    result = entry.get("result")
    if not isinstance(result, str) or result not in RESULTS:
        err("result", f"must be one of {', '.join(RESULTS)}")
    call, exe, drive = entry.get("call"), entry.get("exec"), entry.get("drive")
    if [call, exe, drive].count(None) != 2:
        err("call/exec", "exactly one of 'call' (a C expression), 'exec' (an executor name) "
                         "or 'drive' (a driver name) is required")
    if drive is not None and (not isinstance(drive, str) or not IDENT.match(drive)):
        err("drive", "must be the driver's name, a C identifier")
    if call is not None and (not isinstance(call, str) or not call.strip()):
        err("call", "must be a non-empty C expression")
    elif call is not None and "\n" in call.strip():
        err("call", "must be one line")
    if exe is not None and (not isinstance(exe, str) or not IDENT.match(exe)):
        err("exec", "must be the executor's name, a C identifier")
    # `when` is also evaluated in users' code (EVAIO_HAVE_OP), so it may only
    # test macros the compiler predefines: names starting with an underscore.
    when = entry.get("when")
    if isinstance(when, str) and when.strip() and re.sub(
            r"defined\s*\(\s*_[A-Za-z0-9_]*\s*\)|defined\s+_[A-Za-z0-9_]*|\b_[A-Za-z0-9_]*\b|&&|\|\||!|[()\s]|\b\d+\b",
            "", when):
        err("when", "may only test compiler-predefined macros (names starting with '_'), "
                    "e.g. defined(__linux__)")
    for key in ("when", "uring"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            err(key, "must be a non-empty string")
        elif key in entry and "\n" in entry[key].strip():
            err(key, "must be one line")

    errs = entry.get("errors", [])
    if not isinstance(errs, list) or not all(isinstance(e, str) and re.match(r"^E[A-Z0-9]+: \S", e) for e in errs):
        err("errors", 'must be an array of "ENAME: when it happens" strings')
        errs = []
    notes = entry.get("notes", "")
    if not isinstance(notes, str):
        err("notes", "must be a string")
        notes = ""
    headers = entry.get("headers", [])
    if not isinstance(headers, list) or not all(isinstance(h, str) and re.match(r"^[A-Za-z0-9_/.]+\.h$", h)
                                                 for h in headers):
        err("headers", 'must be an array of header names like "sys/xattr.h"')
        headers = []
    eintr = entry.get("eintr", True)
    if not isinstance(eintr, bool):
        err("eintr", "must be true or false")
    elif not eintr and call is None:
        err("eintr", "only applies to a call (an executor handles EINTR itself)")

    args = _validate_args(entry.get("args"), "args", err, output=False)
    outputs = _validate_args(entry.get("outputs", []), "outputs", err, output=True)
    seen = set()
    for a in args + outputs:
        if a.name in seen:
            err(f"arg '{a.name}'", "duplicate name")
        seen.add(a.name)
    # The wrappers keep NAME_len and NAME_at locals for each copied path and NAME_at
    # for each supplied struct (templates/op_api.c.j2).
    for a in args:
        suffixes = ("_len", "_at") if a.kind.copied else ("_at",) if a.kind.struct else ()
        for suffix in suffixes:
            if a.name + suffix in seen:
                err(f"arg '{a.name + suffix}'", f"name: clashes with the wrapper's local for arg '{a.name}'")
    # A request has one slot for library-owned memory (req->owned_) and one
    # EVAIO__RF_AUTO_OUT flag: one buffer_out/out_struct per op at most, and an
    # executor that fills outputs uses that slot itself.
    auto = [a.name for a in args if a.kind.auto]
    if len(auto) > 1:
        err("args", f"at most one buffer_out or out_struct argument per op, not {len(auto)}: "
                    + ", ".join(f"'{n}'" for n in auto))
    if outputs and auto:
        err("outputs", f"an op with outputs may not also have a buffer_out or out_struct argument ('{auto[0]}')")
    if drive is not None and auto:
        err("args", f"a driven op cannot have a buffer_out or out_struct argument ('{auto[0]}')")
    if outputs and call is not None:
        err("outputs", "only an executor (exec) or a driver (drive) can fill outputs")
    arg_names = {a.name: a for a in args}
    for a in args:
        if a.kind.sized:
            target = arg_names.get(a.size)
            if target is None or target.type != a.kind.sized:
                err(f"arg '{a.name}'", f"size: '{a.size}' is not a {a.kind.sized} argument of this op")
    # Paths resolve relative to the request's working directory: a call must
    # use the *at form with the generated `dirfd` local.
    if isinstance(call, str) and any(a.kind.resolved for a in args) and not re.search(r"\bdirfd\b", call):
        err("call", "an op with a path argument must resolve it with an *at call using `dirfd`")

    # nowait: a C expression run on the submitting thread, which must never
    # block; it returns the result, or -1 with errno EAGAIN to leave the
    # request to a worker.  It is not tried while a buffer the library would
    # allocate is NULL.  Its path lookups, like the call's, start at `dirfd`.
    nowait = entry.get("nowait")
    if nowait is not None:
        if not isinstance(nowait, str) or not nowait.strip() or "\n" in nowait.strip():
            err("nowait", "must be a one-line C expression")
        elif drive is not None:
            err("nowait", "a driven op runs on the polling thread; it has no nowait attempt")
        elif outputs:
            err("nowait", "an op with outputs fills them on a worker; it cannot have a nowait attempt")
        elif any(a.kind.resolved for a in args) and not re.search(r"\bdirfd\b", nowait):
            err("nowait", "an op with a path argument must resolve it with `dirfd` in its nowait attempt too")

    bad_input = _validate_bad_input(entry.get("bad_input", []), args, err)

    if len(errors) > before:
        return None
    return Op(name=name, id=op_id, summary=entry["summary"].strip(), doc=entry["doc"].strip(),
              args=args, outputs=outputs, result=result, call=(call or "").strip(), exec=exe or "", drive=drive or "",
              when=entry.get("when", "").strip(), uring=entry.get("uring", "").strip(), errors=errs,
              notes=notes.strip(), headers=headers, eintr=eintr is not False, fields=args + outputs,
              bad_input=bad_input, nowait=(nowait or "").strip() if isinstance(nowait, str) else "")


BAD_INPUT_LINE = re.compile(r"^([a-z_]+) ([a-z][a-z0-9_]*): (accepted|E[A-Z0-9]+(?:\|E[A-Z0-9]+)*)$")


def _validate_bad_input(items, args, err):
    """bad_input = ["CASE ARG: OUTCOME", ...]: OUTCOME is `accepted` (the op
    takes that value, so the case is not run) or the errno names, separated
    by `|`, that the op reports instead of the type's default."""
    if not isinstance(items, list):
        err("bad_input", 'must be an array of "CASE ARG: accepted" or "CASE ARG: ENAME" strings')
        return {}
    by_name = {a.name: a for a in args}
    out = {}
    for item in items:
        m = BAD_INPUT_LINE.match(item) if isinstance(item, str) else None
        if not m:
            err("bad_input", f'{item!r}: not of the form "CASE ARG: accepted" or "CASE ARG: ENAME[|ENAME...]"')
            continue
        case, name, outcome = m.groups()
        arg = by_name.get(name)
        if arg is None:
            err("bad_input", f"'{item}': '{name}' is not an argument of this op")
        elif case not in dict(arg.kind.bad):
            cases = ", ".join(c for c, _ in arg.kind.bad) or "none"
            err("bad_input", f"'{item}': no case '{case}' for type '{arg.type}' (its cases: {cases})")
        elif (case, name) in out:
            err("bad_input", f"'{item}': case '{case}' of '{name}' given twice")
        else:
            out[(case, name)] = [] if outcome == "accepted" else outcome.split("|")
    return out


def _validate_args(items, key, err, output):
    if not isinstance(items, list):
        err(key, "must be an array of inline tables")
        return []
    args = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            err(f"{key}[{i}]", "must be an inline table")
            continue
        aname = item.get("name")
        alabel = f"arg '{aname}'" if isinstance(aname, str) else f"{key}[{i}]"
        ok = True
        for k in sorted(set(item) - ARG_KEYS):
            err(alabel, f"unknown field '{k}'")
            ok = False
        if not isinstance(aname, str) or not IDENT.match(aname):
            err(alabel, "name: must be a lower-case C identifier")
            ok = False
        elif aname in RESERVED_ARGS or is_keyword(aname) or aname.endswith("_"):
            err(alabel, f"name: '{aname}' is reserved")
            ok = False
        tname = item.get("type")
        if not isinstance(tname, str):
            err(alabel, f"type: must be one of {', '.join(TYPES)}")
            continue
        kind = TYPES.get(tname)
        if kind is None:
            err(alabel, f"unknown type '{tname}'")
            continue
        if kind.output_only != output:
            where_ok = "outputs" if kind.output_only else "args"
            err(alabel, f"type '{tname}' belongs in {where_ok}")
            ok = False
        size = item.get("size", "")
        if not isinstance(size, str):
            err(alabel, "size: must be the name of a length argument")
            ok = False
            size = ""
        elif kind.sized and not size:
            err(alabel, f"type '{tname}' needs size = \"<{kind.sized} argument>\"")
            ok = False
        if size and not kind.sized:
            err(alabel, f"size: type '{tname}' takes no size")
            ok = False
        struct_type = item.get("ctype", "")
        if kind.struct and not (isinstance(struct_type, str) and re.match(r"^struct [a-z_][a-z0-9_]*$", struct_type)):
            err(alabel, f"type '{tname}' needs ctype = \"struct <name>\"")
            ok = False
        if struct_type and not kind.struct:
            err(alabel, f"ctype: type '{tname}' takes no ctype")
            ok = False
        if ok:
            ctype = f"{struct_type} *" if kind.struct else kind.ctype
            args.append(Arg(name=aname, type=tname, ctype=ctype, kind=kind, size=size, struct_type=struct_type))
    return args
