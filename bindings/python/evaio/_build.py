"""Builds the Python function of every operation from the spec's table
(_ops.OPS), for both layers: ctx.OP(...) (callbacks) and evaio.aio.OP(...)
(asyncio).  Nothing here names an operation: what each function takes,
converts, returns and raises follows from its arguments' semantic types,
its outputs and its result kind, so an operation added to the spec appears
here after regeneration.

The functions are compiled from source made here (as collections.namedtuple
does), so that each is a straight line of calls with a real signature and
docstring, and the hot path (stat, read, ...) costs no generic loop.

The Python shape of an operation, from its C arguments in order:
- out_struct arguments are not parameters (the library supplies the struct);
- a `length` that sizes a buffer_in, and a `count` that sizes an iovec, are
  not parameters either: the buffer's size and the list's length give them;
- buffer_out and buffer_opt arguments become optional parameters at the end
  (default None: the library allocates);
- trailing flags arguments default to 0;
- then `callback` (callback layer only), and keyword-only `pri=0`, `wd=None`
  (operations with path arguments: evaio_ctx_OP_at) and, in aio, `full=False`.

What it returns (aio: the awaited value; callbacks: req.value()):
- an out_struct argument: its conversion (os.stat_result, ...);
- a buffer_out argument: the bytes read (the byte count when the caller
  passed a buffer);
- outputs: the main ones (names, text, bytes, new_wd, new_dir, and arrays
  when there is no names output), one as itself, several as a tuple, after
  the descriptor when the result is one (mkstemp: (fd, path));
- otherwise the result: None for `none` and `int`, the number for the rest.
With full=True (aio) or in req.outputs (callbacks): every output by name,
with the result.
"""

import collections
import keyword
import textwrap

from . import _convert as C
from . import _core
from . import _native as N
from ._ops import OPS, RESULTS, TYPES

INT_TYPES = {"fd", "offset", "length", "count", "flags", "mode", "int", "uint", "ulong", "intptr", "uid", "gid",
             "dev", "seconds"}
HANDLE_OUTPUTS = {"new_wd", "new_dir"}
MAIN_OUTPUTS = {"names", "text", "bytes", "new_wd", "new_dir"}
EXTRA_PARAMS = {"self", "callback", "pri", "wd", "full"}


class Shape:
    """How one operation looks from Python."""

    def __init__(self, op):
        self.op = op
        args = op.args
        # Sizes the caller does not pass: they follow from a buffer or a list.
        self.implied = {a.size: a for a in args if a.type in ("buffer_in", "iovec")}
        required, buffers = [], []
        for a in args:
            if a.name in self.implied or a.type == "out_struct":
                continue
            (buffers if a.type in ("buffer_out", "buffer_opt") else required).append(a)
        flags = []
        while required and required[-1].type == "flags":
            flags.insert(0, required.pop())
        self.required = required
        self.optional = [(a, "0") for a in flags] + [(a, "None") for a in buffers]
        for a in args:
            if a.name in EXTRA_PARAMS or keyword.iskeyword(a.name):
                raise ImportError(f"evaio: op {op.name}: argument name {a.name!r} clashes with the binding's own")
        for a in args + op.outputs:
            if a.type not in TYPES:
                raise ImportError(f"evaio: op {op.name}: unknown semantic type {a.type!r}")
        # The path arguments name the file in errors, as in the os module;
        # a string before the last path counts too (symlink's target).
        last_path = max((i for i, a in enumerate(args) if a.type == "path"), default=-1)
        self.filenames = [a.name for i, a in enumerate(args)
                          if a.type == "path" or (a.type == "string" and i < last_path)][:2]
        first_path = next((a.name for a in args if a.type == "path"), None)
        self.as_bytes = f"{first_path}.__class__ is bytes" if first_path else "False"
        # What completion reads from req->args.OP: library-supplied structs
        # and buffers, and the outputs.
        self.produced = [a for a in args if a.type in ("out_struct", "buffer_out")] + list(op.outputs)
        self.reader = C.Reader(op.struct, [a.name for a in self.produced]) if self.produced else None
        self.functions = [a.name for a in args if a.type == "function"]
        names_out = any(o.type == "names" for o in op.outputs)
        self.main = [a for a in self.produced
                     if a.type in ("out_struct", "buffer_out") or a.type in MAIN_OUTPUTS
                     or (a.type == "array" and not names_out)]
        self.handed = [o for o in op.outputs if o.type in HANDLE_OUTPUTS]
        self.full_type = collections.namedtuple(f"{op.name}_outputs", ["result"] + [a.name for a in self.produced])
        self.full_type.__doc__ = f"The result of {op.name} and all its outputs."

    # -- pieces of source ----------------------------------------------------

    def params(self, layer):
        p = [a.name for a in self.required]
        if layer == "callback":
            p = ["self"] + p + ["callback"]
        p += [f"{a.name}={default}" for a, default in self.optional]
        kw = ["pri=0"] + (["wd=None"] if self.op.resolves else []) + (["full=False"] if layer == "aio" else [])
        return ", ".join(p + ["*"] + kw)

    def convert(self):
        """Lines turning the Python arguments into C ones; (lines, C args, keep)."""
        lines, cargs, keep = [], [], []
        for a in self.op.args:
            n, t = a.name, a.type
            if a.name in self.implied:
                cargs.append(f"n_{self.implied[a.name].name}")
            elif t in INT_TYPES:
                cargs.append(n)
            elif t in ("path", "string"):  # _convert.path, inline: it is on every path op's hot path
                lines.append(f"c_{n} = {n}.encode(_ENC, _ERR) if {n}.__class__ is str else _fsencode({n})")
                lines.append(f"if b'\\0' in c_{n}:")
                lines.append("    raise ValueError('embedded null byte')")
                cargs.append(f"c_{n}")
            elif t == "time":
                lines.append(f"c_{n} = _time({n})")
                cargs.append(f"c_{n}")
            elif t == "function":
                lines.append(f"c_{n}, k_{n} = _function({n})")
                cargs.append(f"c_{n}")
                keep.append(f"k_{n}")
            elif t == "address":
                lines.append(f"c_{n}, k_{n} = _address({n})")
                cargs.append(f"c_{n}")
                keep.append(f"k_{n}")
            elif t in ("wd", "dir"):
                # The op that releases a handle takes it over.
                takes = any(_core.HANDLES[o].release_op == self.op.name for o in HANDLE_OUTPUTS
                            if _core.HANDLES[o] is _core.HANDLES[t])
                lines.append(f"c_{n} = _handle({n}, {t!r}, {takes})")
                cargs.append(f"c_{n}")
            elif t == "buffer_in":
                lines.append(f"c_{n}, n_{n} = _buffer_in({n})")
                cargs.append(f"c_{n}")
                keep.append(f"c_{n}")
            elif t in ("buffer_out", "buffer_opt"):
                lines.append(f"c_{n} = _buffer_out({n}, {a.size})")
                cargs.append(f"c_{n}")
                keep.append(f"c_{n}")
            elif t == "iovec":
                lines.append(f"c_{n}, n_{n}, k_{n} = _iovec({n})")
                cargs.append(f"c_{n}")
                keep.append(f"k_{n}")
            elif t == "out_struct":
                cargs.append("None")
            else:
                raise ImportError(f"evaio: op {self.op.name}: no conversion for argument type {t!r}")
        return lines, cargs, keep

    def keep_index(self, name):
        _, _, keep = self.convert()
        return keep.index(f"c_{name}")

    def outputs(self, ctx_expr, only_main):
        """Lines computing o_NAME for each output (needs req, res, keep, as_bytes)."""
        if not self.produced:
            return []
        lines = [f"v = _rd_{self.op.name}(req + _ARGS)"]
        kind = self.op.result
        for i, a in enumerate(self.reader.names):
            a = next(x for x in self.produced if x.name == a)
            if only_main and a not in self.main:
                continue
            n, t, v = a.name, a.type, f"v[{i}]"
            if t == "out_struct":
                expr = f"_st_{self.op.name}_{n}({v})"
            elif t == "buffer_out":
                expr = f"(res if keep[{self.keep_index(n)}] is not None else _string_at({v}, res))"
            elif t == "names":
                expr = f"_names({v}, res, {kind!r}, as_bytes)"
            elif t == "text":
                expr = f"_text({v}, res, {kind!r}, as_bytes)"
            elif t == "bytes":
                expr = f"_bytes({v}, res)"
            elif t == "array":
                expr = f"_array({v}, res, {a.struct_type!r}, as_bytes)"
            elif t in HANDLE_OUTPUTS:
                expr = f"(_HANDLES[{t!r}]({ctx_expr}, {v}, as_bytes) if {v} else None)"
            else:  # flags_out, count_out
                expr = v
            lines.append(f"o_{n} = {expr}")
        return lines

    def value_expr(self):
        if self.main:
            items = [f"o_{a.name}" for a in self.main]
            if self.op.result == "fd" and not any(a.type in ("out_struct", "buffer_out") for a in self.main):
                items.insert(0, "res")
            return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"
        return "None" if self.op.result in ("none", "int") else "res"

    def full_expr(self):
        return f"_Full_{self.op.name}(res, " + "".join(f"o_{a.name}, " for a in self.produced) + ")"

    def error_lines(self, fnames):
        lines = [f"error = _oserror(err, {fnames})"]
        for f in self.functions:
            i = self.convert()[2].index(f"k_{f}")
            lines.append(f"if getattr(keep[{i}], 'exc', None) is not None:")
            lines.append(f"    error = keep[{i}].exc")
        return lines

    def release_lines(self, ctx_expr):
        """Lines releasing what a request nobody awaits any more produced."""
        lines = []
        if self.op.result == "fd":
            lines.append("_close_fd(res)")
        if self.handed:
            idx = {n: i for i, n in enumerate(self.reader.names)}
            lines.append(f"v = _rd_{self.op.name}(req + _ARGS)")
            for o in self.handed:
                lines.append(f"if v[{idx[o.name]}]: _release({ctx_expr}, {_core.HANDLES[o.type].release_op!r}, "
                             f"v[{idx[o.name]}])")
        return lines

    def doc(self, layer):
        op = self.op
        out = [op.summary, "", textwrap.fill(op.doc.replace("`", ""), 76), ""]
        params = [a for a in self.required] + [a for a, _ in self.optional]
        if params:
            out.append("Arguments: " + ", ".join(f"{a.name} ({TYPES[a.type].doc})" for a in params) + ".")
        if self.implied:
            out.append("Implied: " + ", ".join(f"{s} (from {a.name})" for s, a in self.implied.items()) + ".")
        if layer == "callback":
            out.append("callback(request) runs in poll() on the polling thread; request.value() is the value.")
        else:
            out.append("Returns an asyncio future; cancelling it (or the task awaiting it) cancels the request.")
        out.append(f"Value: {self.value_doc()}.")
        out.append(f"C: evaio_ctx_{op.name}{'_at' if op.resolves else ''}, result: {RESULTS[op.result]}.")
        return "\n".join(out)

    def value_doc(self):
        if self.main:
            items = [f"{a.name} ({a.type}{' ' + a.struct_type if a.struct_type else ''})" for a in self.main]
            if self.value_expr().startswith("(res, "):
                items.insert(0, "the descriptor")
            return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"
        return "None" if self.op.result in ("none", "int") else f"the result ({RESULTS[self.op.result]})"

    def c_call(self, cargs, ctx_ptr):
        pre = [ctx_ptr, "_wdp(wd)"] if self.op.resolves else [ctx_ptr]
        return f"_fn_{self.op.name}(" + ", ".join(pre + cargs + ["pri", "_TRAMP", "key"]) + ")"

    # -- the functions ---------------------------------------------------------

    def callback_source(self):
        op = self.op
        conv, cargs, keep = self.convert()
        fn = self.filenames + ["None"] * (2 - len(self.filenames))
        body = conv + [
            "ptr = self._ptr",
            "if ptr is None:",
            "    raise ValueError('this evaio context has been freed')",
            f"r = _Request(self, {op.name!r}, callback, {fn[0]}, {fn[1]}, ({''.join(k + ', ' for k in keep)}), "
            f"{self.as_bytes})",
            "key = _next_key()",
            f"_pending[key] = (_cdone_{op.name}, r)",
            "try:",
            f"    p = {self.c_call(cargs, 'ptr')}",
            "except _ArgumentError as e:",
            "    del _pending[key]",
            "    raise TypeError(str(e)) from None",
            "if not p:",
            "    del _pending[key]",
            f"    raise _oserror(_get_errno(), {fn[0]}, {fn[1]})",
            "r._ptr = p",
            "return r",
        ]
        done = [
            "r = rec[1]",
            "keep = r.keep",
            "as_bytes = r.as_bytes",
            "if res < 0:",
            *("    " + line for line in self.error_lines("r.filename, r.filename2")),
            "    return _finish(r, req, res, err, None, None, error)",
            *self.outputs("r.ctx", only_main=False),
            f"return _finish(r, req, res, err, {self.value_expr()}, "
            + "{" + "".join(f"{a.name!r}: o_{a.name}, " for a in self.produced) + "}, None)",
        ]
        return (f"def {op.name}({self.params('callback')}):\n"
                + textwrap.indent(repr(self.doc("callback")) + "\n" + "\n".join(body), "    ") + "\n\n"
                + f"def _cdone_{op.name}(req, res, err, rec):\n" + textwrap.indent("\n".join(done), "    ") + "\n")

    def aio_source(self):
        op = self.op
        conv, cargs, keep = self.convert()
        fn = self.filenames + ["None"] * (2 - len(self.filenames))
        # Submission is deferred to the end of the loop's iteration (see
        # aio._LoopContext.flush): a burst of submissions wakes a worker or
        # two instead of one per request.  Integers are checked here, so a
        # wrong type raises at the call.
        ints = [f"{a.name} = _index({a.name})" for a in self.required + [a for a, _ in self.optional]
                if a.type in INT_TYPES and a.type != "seconds"]
        floats = [f"{a.name} = float({a.name})" for a in self.required if a.type == "seconds"]
        pre = ["lc.ptr", "None if wd is None else _wdp(wd)"] if op.resolves else ["lc.ptr"]
        body = ["lc = _by_loop.get(_get_running_loop()) or _attach()"] + ints + floats + conv + [
            "key = _next_key()",
            "fut = _Future(loop=lc.loop)",
            f"_pending[key] = (_adone_{op.name}, fut, {fn[0]}, {fn[1]}, "
            f"({''.join(k + ', ' for k in keep)}), {self.as_bytes}, full, lc, _fn_{op.name}, ("
            + ", ".join(pre + cargs + ["pri", "_TRAMP", "key"]) + "))",
            "q = lc.queue",
            "if not q:",
            "    lc.loop.call_soon(lc.flush)",
            "q.append(key)",
            "return fut",
        ]
        late = self.release_lines("rec[7].ctx")
        done = [
            "fut = rec[1]",
            "if fut.done():",  # cancelled: nobody awaits the result
            "    fut._outcome = (res, err)",
            *(["    if res >= 0:"] + ["        " + line for line in late] if late else []),
            "    return 0",
            "if res < 0:",
            "    keep = rec[4]",
            *("    " + line for line in self.error_lines("rec[2], rec[3]")),
            "    fut.set_exception(error)",
            "    return 0",
        ]
        if self.produced:
            done += ["keep = rec[4]", "as_bytes = rec[5]", "if rec[6]:"]
            done += ["    " + line for line in self.outputs("rec[7].ctx", only_main=False)]
            done += [f"    fut.set_result({self.full_expr()})", "    return 0"]
            done += self.outputs("rec[7].ctx", only_main=True)
            done += [f"fut.set_result({self.value_expr()})"]
        else:
            done += [f"fut.set_result(_Full_{op.name}(res) if rec[6] else {self.value_expr()})"]
        done.append("return 0")
        return (f"def {op.name}({self.params('aio')}):\n"
                + textwrap.indent(repr(self.doc("aio")) + "\n" + "\n".join(body), "    ") + "\n\n"
                + f"def _adone_{op.name}(req, res, err, rec):\n" + textwrap.indent("\n".join(done), "    ") + "\n")


SHAPES = {op.name: Shape(op) for op in OPS}


def _close_fd(fd):
    import os
    try:
        os.close(fd)
    except OSError:
        pass


def namespace():
    """What the generated source refers to."""
    ns = {
        "_ENC": C._ENCODING, "_ERR": C._ERRORS, "_fsencode": C._fsencode, "_time": C.time, "_function": C.function, "_address": C.address,
        "_buffer_in": C.buffer_in, "_buffer_out": C.buffer_out, "_iovec": C.iovec,
        "_names": C.names, "_text": C.text, "_bytes": C.bytes_, "_array": C.array, "_oserror": C.oserror,
        "_string_at": C.string_at, "_handle": _core.handle, "_wdp": _core.wd_pointer, "_HANDLES": _core.HANDLES,
        "_release": _core.release, "_close_fd": _close_fd, "_pending": _core.pending, "_next_key": _core.next_key,
        "_TRAMP": _core.TRAMPOLINE, "_ARGS": N.ARGS_OFFSET, "_Request": _core.Request,
        "_finish": _core.finish_request, "_get_errno": __import__("ctypes").get_errno,
        "_ArgumentError": __import__("ctypes").ArgumentError, "_index": __import__("operator").index,
    }
    for name, s in SHAPES.items():
        ns[f"_fn_{name}"] = N.OP_FUNCTIONS[name]
        ns[f"_Full_{name}"] = s.full_type
        if s.reader:
            ns[f"_rd_{name}"] = s.reader.read
        for a in s.produced:
            if a.type == "out_struct":
                ns[f"_st_{name}_{a.name}"] = C.stat_fast(a.struct_type)
    return ns


class Layer:
    """The functions of one layer ("callback" or "aio"), each compiled the
    first time it is asked for (compiling all at import would cost tens of
    milliseconds); `extra` adds what the layer's own code provides."""

    def __init__(self, layer, extra):
        self.layer = layer
        self.namespace = namespace()
        self.namespace.update(extra)
        self.functions = {}

    def source(self, name):
        s = SHAPES[name]
        return s.callback_source() if self.layer == "callback" else s.aio_source()

    def get(self, name):
        f = self.functions.get(name)
        if f is None:
            exec(compile(self.source(name), f"<evaio {self.layer} {name}>", "exec"), self.namespace)  # noqa: S102
            f = self.functions[name] = self.namespace[name]
            f.__module__ = "evaio" if self.layer == "callback" else "evaio.aio"
            f.__qualname__ = f"Context.{name}" if self.layer == "callback" else name
        return f
