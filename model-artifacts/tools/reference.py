#!/usr/bin/env python3
"""PyTorch reference of the ODE_t(ODE_l) velocity network, for cross-checking the Java runtime.

Independent of the Java code: written from the network semantics in /DESIGN.md section 1 and the
tensor names in model-artifacts/README.md. Follows the reference exactly: the position embedding
is column-first (its meshgrid(grid_w, grid_h)) unless the manifest's architecture says
"positionLayout": "ROW_FIRST" or, as manifests written before that field existed, says nothing;
the block loop runs all L blocks (depth_min need not be a multiple of G), so the blocks after the
last group end below L, which the Java runtime skips, are evaluated here. Needs only torch (Debian's python3-torch 1.13 works);
the safetensors format is parsed here, no safetensors package.

Commands:
  velocity  --package DIR --inputs IN.safetensors --output OUT.safetensors
            IN holds x (B,C,H,W), t (B), d (B), y (B, float-coded class ids) and, in
            __metadata__, "blocks" (comma-separated L values); OUT gets v_L for each L.
  compare   --package DIR --inputs IN --expected JAVA.safetensors [--tolerance 1e-4]
            recomputes every v_L of JAVA.safetensors, prints the max abs difference per L and
            exits 1 when any exceeds the tolerance.
  golden    prints the block outputs used by the Java block tests (NetworkBlocksReferenceTest).
  time      --package DIR --inputs IN.safetensors --blocks L [--threads T] [--warmup W]
            [--repeats R] [--show-config]
            times velocity calls v(x, t | d, y, L) on the inputs of IN (as for velocity) with
            torch.set_num_threads(T) and one inter-op thread; prints one JSON object: the
            milliseconds of each timed call, their median, torch's version and thread count, the
            BLAS library the process mapped and (with --show-config) torch.__config__.show().
"""

import argparse
import json
import math
import statistics
import struct
import sys
import time

import torch
import torch.nn.functional as F


# ----------------------------------------------------------------------------- safetensors

def read_safetensors(path):
    """Returns ({name: float32 tensor}, metadata) of a safetensors file (F32 only)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {entry['dtype']}, need F32")
        begin, end = entry["data_offsets"]
        count = (end - begin) // 4
        values = struct.unpack(f"<{count}f", data[base + begin:base + end])
        tensors[name] = torch.tensor(values, dtype=torch.float32).reshape(entry["shape"])
    return tensors, meta


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        flat = t.detach().to(torch.float32).contiguous().reshape(-1).tolist()
        blob = struct.pack(f"<{len(flat)}f", *flat)
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


# ----------------------------------------------------------------------------- network

class Config:
    def __init__(self, arch):
        self.image_size = arch["imageSize"]
        self.channels = arch["channels"]
        self.patch = arch["patchSize"]
        self.hidden = arch["hiddenSize"]
        self.heads = arch["numHeads"]
        self.depth = arch["depth"]
        self.depth_min = arch["depthMin"]
        self.group = arch["groupSize"]
        self.num_classes = arch["numClasses"]
        # Absent in legacy manifests (odelt-mnist 1.0.0), which were trained row-first.
        self.position_layout = arch.get("positionLayout", "ROW_FIRST")
        if self.position_layout not in ("ROW_FIRST", "COLUMN_FIRST"):
            raise ValueError(f"unknown positionLayout {self.position_layout!r}")


def timestep_embedding(s, dim=256, max_period=10000.0):
    """[cos(s f_j), sin(s f_j)], f_j = exp(-ln(max_period) j / (dim/2)); s NOT scaled by 1000."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = s.to(torch.float32)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def position_embedding(hidden, grid, layout="COLUMN_FIRST"):
    """(N, D), tokens row-major. COLUMN_FIRST (the reference): channels [0, D/2) encode the token's
    column, [D/2, D) its row; ROW_FIRST the other way round. Each half is
    [sin(pos w_i), cos(pos w_i)], w_i = 1 / 10000^(2i/(D/2)), i < D/4."""
    quarter = hidden // 4
    omega = 1.0 / (10000.0 ** (torch.arange(quarter, dtype=torch.float64) / quarter))
    pos = torch.arange(grid, dtype=torch.float64)
    one_d = lambda p: torch.cat([torch.sin(p[:, None] * omega), torch.cos(p[:, None] * omega)], 1)
    rows = one_d(pos)[:, None, :].expand(grid, grid, hidden // 2)
    cols = one_d(pos)[None, :, :].expand(grid, grid, hidden // 2)
    halves = [cols, rows] if layout == "COLUMN_FIRST" else [rows, cols]
    return torch.cat(halves, dim=-1).reshape(grid * grid, hidden).to(torch.float32)


def mlp_embed(w, prefix, s):
    h = F.linear(timestep_embedding(s), w[prefix + "mlp.0.weight"], w[prefix + "mlp.0.bias"])
    return F.linear(F.silu(h), w[prefix + "mlp.2.weight"], w[prefix + "mlp.2.bias"])


def modulate(x, shift, scale):
    return x * (1 + scale[:, None, :]) + shift[:, None, :]


def layer_norm(x):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6)


def attention(w, p, h, heads):
    b, n, d = h.shape
    hd = d // heads
    split = lambda z: z.reshape(b, n, heads, hd).permute(0, 2, 1, 3)
    k = split(F.linear(h, w[p + "attn.k.weight"], w[p + "attn.k.bias"]))
    q = split(F.linear(h, w[p + "attn.q.weight"], w[p + "attn.q.bias"])) * (1.0 / hd)
    v = split(F.linear(h, w[p + "attn.v.weight"], w[p + "attn.v.bias"]))
    att = torch.softmax((q @ k.transpose(-1, -2)).to(torch.float32), dim=-1)
    out = (att @ v).permute(0, 2, 1, 3).reshape(b, n, d)
    return F.linear(out, w[p + "attn.proj.weight"], w[p + "attn.proj.bias"])


def dit_block(w, p, x, cb, heads):
    mod = F.linear(F.silu(cb), w[p + "adaLN_modulation.1.weight"], w[p + "adaLN_modulation.1.bias"])
    shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = mod.chunk(6, dim=1)
    x = x + gate_msa[:, None, :] * attention(w, p, modulate(layer_norm(x), shift_msa, scale_msa), heads)
    h = modulate(layer_norm(x), shift_mlp, scale_mlp)
    h = F.gelu(F.linear(h, w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"]), approximate="tanh")
    return x + gate_mlp[:, None, :] * F.linear(h, w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"])


def final_layer(w, x, c):
    mod = F.linear(F.silu(c), w["final_layer.adaLN_modulation.1.weight"],
                   w["final_layer.adaLN_modulation.1.bias"])
    shift, scale = mod.chunk(2, dim=1)
    return F.linear(modulate(layer_norm(x), shift, scale), w["final_layer.linear.weight"],
                    w["final_layer.linear.bias"])


def patchify(w, x, p):
    y = F.conv2d(x, w["x_embedder.proj.weight"], w["x_embedder.proj.bias"], stride=p)
    return y.flatten(2).transpose(1, 2)  # (B, N, D), tokens row-major over (h, w)


def unpatchify(tokens, cfg):
    b = tokens.shape[0]
    g = cfg.image_size // cfg.patch
    x = tokens.reshape(b, g, g, cfg.patch, cfg.patch, cfg.channels)  # (B, h, w, p_row, p_col, C)
    return torch.einsum("nhwpqc->nchpwq", x).reshape(b, cfg.channels, g * cfg.patch, g * cfg.patch)


def velocity(w, cfg, x, t, d, y, blocks):
    """v(x, t | d, y, L) for NCHW x; y integer class ids (num_classes = null label)."""
    if not (cfg.depth_min <= blocks <= cfg.depth and (blocks - cfg.depth_min) % cfg.group == 0):
        raise ValueError(f"blocks={blocks} not allowed")
    grid = cfg.image_size // cfg.patch
    positions = position_embedding(cfg.hidden, grid, cfg.position_layout)
    tokens = patchify(w, x, cfg.patch) + positions[None]
    c = (mlp_embed(w, "t_embedder.", t) + mlp_embed(w, "d_embedder.", d)
         + w["y_embedder.embedding_table.weight"][y.long()])
    cb = c + w["b_embedder.embedding_table.weight"][blocks][None, :]
    xr, vr = tokens, torch.zeros_like(tokens)
    for i in range(blocks):  # all L blocks, as the reference; those after the last group end are dead
        vb = dit_block(w, f"blocks.{i}.", xr, cb, cfg.heads)
        if i % cfg.group == cfg.group - 1:
            xr = xr + vb
            vr = vr + vb
        else:
            xr = vb
    return unpatchify(final_layer(w, vr, c), cfg)


def load_package(directory):
    with open(f"{directory}/manifest.json") as f:
        manifest = json.load(f)
    weights, _ = read_safetensors(f"{directory}/{manifest['weights']['file']}")
    return Config(manifest["architecture"]), weights


def run_velocities(args, block_list):
    cfg, w = load_package(args.package)
    inputs, _ = read_safetensors(args.inputs)
    with torch.no_grad():
        return {f"v{l}": velocity(w, cfg, inputs["x"], inputs["t"], inputs["d"],
                                  inputs["y"].round().long(), l) for l in block_list}


# ----------------------------------------------------------------------------- golden values

def formula(shape, salt, scale):
    """Deterministic weights both languages compute: scale * sin(0.37 k + salt), k = flat index."""
    n = 1
    for s in shape:
        n *= s
    k = torch.arange(n, dtype=torch.float64)
    return (scale * torch.sin(0.37 * k + salt)).to(torch.float32).reshape(shape)


def golden():
    torch.set_printoptions(precision=8)
    d, heads, mlp, n, b = 8, 2, 16, 4, 2
    w = {}
    names = [("adaLN_modulation.1", 6 * d, d), ("attn.k", d, d), ("attn.q", d, d),
             ("attn.v", d, d), ("attn.proj", d, d), ("mlp.fc1", mlp, d), ("mlp.fc2", d, mlp)]
    for salt, (name, out_dim, in_dim) in enumerate(names):
        w[f"b.{name}.weight"] = formula((out_dim, in_dim), salt, 0.5)
        w[f"b.{name}.bias"] = formula((out_dim,), salt + 0.5, 0.1)
    x = formula((b, n, d), 7.0, 1.0)
    cb = formula((b, d), 8.0, 1.0)

    def show(label, t):
        flat = t.reshape(-1).tolist()
        print(f"{label} = {{" + ", ".join(f"{v:.8g}f" for v in flat) + "};")

    show("DIT_BLOCK", dit_block(w, "b.", x, cb, heads))
    fw = {"final_layer.adaLN_modulation.1.weight": formula((2 * d, d), 11, 0.5),
          "final_layer.adaLN_modulation.1.bias": formula((2 * d,), 11.5, 0.1),
          "final_layer.linear.weight": formula((12, d), 12, 0.5),
          "final_layer.linear.bias": formula((12,), 12.5, 0.1)}
    show("FINAL_LAYER", final_layer(fw, x, cb))
    tw = {"t.mlp.0.weight": formula((d, 256), 13, 0.1), "t.mlp.0.bias": formula((d,), 13.5, 0.1),
          "t.mlp.2.weight": formula((d, d), 14, 0.5), "t.mlp.2.bias": formula((d,), 14.5, 0.1)}
    show("TIMESTEP", mlp_embed(tw, "t.", torch.tensor([0.25, 3.0])))
    pw = {"x_embedder.proj.weight": formula((d, 3, 2, 2), 15, 0.5),
          "x_embedder.proj.bias": formula((d,), 15.5, 0.1)}
    show("PATCH_EMBED", patchify(pw, formula((b, 3, 4, 4), 16, 1.0), 2))
    show("POSITIONS", position_embedding(d, 2, "COLUMN_FIRST"))
    show("POSITIONS_ROW_FIRST", position_embedding(d, 2, "ROW_FIRST"))


def blas_libraries():
    """Shared libraries of BLAS/LAPACK/oneDNN this process has mapped (Linux), resolved."""
    found = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = path.rsplit("/", 1)[-1].lower()
                if any(k in name for k in ("blas", "lapack", "mkl", "dnnl", "openblas")):
                    found.add(path)
    except OSError:
        pass
    return sorted(found)


def time_velocity(args):
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    cfg, w = load_package(args.package)
    inputs, _ = read_safetensors(args.inputs)
    x, t, d, y = inputs["x"], inputs["t"], inputs["d"], inputs["y"].round().long()
    millis = []
    with torch.no_grad():
        for r in range(args.warmup + args.repeats):
            start = time.perf_counter()
            velocity(w, cfg, x, t, d, y, args.blocks)
            elapsed = (time.perf_counter() - start) * 1000.0
            if r >= args.warmup:
                millis.append(elapsed)
    out = {"blocks": args.blocks, "batch": int(x.shape[0]), "millis": millis,
           "median_ms": statistics.median(millis), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "blas": blas_libraries()}
    if args.show_config:
        out["config"] = torch.__config__.show()
    print(json.dumps(out))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("velocity")
    v.add_argument("--package", required=True)
    v.add_argument("--inputs", required=True)
    v.add_argument("--output", required=True)
    v.add_argument("--blocks", required=True, help="comma-separated L values")
    c = sub.add_parser("compare")
    c.add_argument("--package", required=True)
    c.add_argument("--inputs", required=True)
    c.add_argument("--expected", required=True)
    c.add_argument("--tolerance", type=float, default=1e-4)
    sub.add_parser("golden")
    tm = sub.add_parser("time")
    tm.add_argument("--package", required=True)
    tm.add_argument("--inputs", required=True)
    tm.add_argument("--blocks", required=True, type=int)
    tm.add_argument("--threads", type=int, default=1)
    tm.add_argument("--warmup", type=int, default=2)
    tm.add_argument("--repeats", type=int, default=5)
    tm.add_argument("--show-config", action="store_true")
    args = parser.parse_args()

    if args.command == "time":
        return time_velocity(args)

    if args.command == "golden":
        golden()
        return 0
    if args.command == "velocity":
        out = run_velocities(args, [int(s) for s in args.blocks.split(",")])
        write_safetensors(args.output, out)
        return 0
    expected, _ = read_safetensors(args.expected)
    blocks = sorted(int(name[1:]) for name in expected)
    ours = run_velocities(args, blocks)
    worst = 0.0
    for l in blocks:
        diff = (ours[f"v{l}"] - expected[f"v{l}"]).abs().max().item()
        scale = expected[f"v{l}"].abs().max().item()
        print(f"L={l}: max |v_java - v_torch| = {diff:.3e} (max |v| = {scale:.3f})")
        worst = max(worst, diff)
    ok = worst <= args.tolerance
    print(f"parity {'OK' if ok else 'FAILED'}: max abs difference {worst:.3e}, "
          f"tolerance {args.tolerance:.1e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
