#!/usr/bin/env python3
"""PyTorch reference of the Stable Diffusion VAE decoder (diffusers AutoencoderKL) and of the
tiny decoder TAESD (diffusers AutoencoderTiny's DecoderTiny), for cross-checking the Java decoders
(dev.odelt.model.vae.VaeDecoder, TinyDecoder).

Independent of the Java code: written from the architecture (DESIGN.md section 5, "VAE") and the
diffusers tensor names; it reads the diffusers folder itself (config.json and
diffusion_pytorch_model.safetensors, either attention naming, F32/F16/BF16), not the Java package.
Needs only torch (Debian's python3-torch 1.13 works) and numpy; safetensors is parsed here.

Commands:
  make-diffusers --out DIR [--block-out-channels 32,64] [--layers-per-block 1]
            [--norm-num-groups 8] [--latent-channels 4] [--scaling-factor 0.18215]
            [--naming new|old|old-conv] [--dtype F32|F16|BF16] [--seed 0]
            writes a random AutoencoderKL folder (config.json + safetensors): the decoder's and
            post_quant_conv's tensors plus a few encoder/quant_conv tensors an importer must drop.
            new: to_q/to_k/to_v/to_out.0 (C, C); old: query/key/value/proj_attn (C, C);
            old-conv: the older names with (C, C, 1, 1) weights. Same seed, same weights.
  make-tiny --out DIR [--channels 16,16,16,16] [--blocks 1,2,1,1] [--latent-channels 4]
            [--scaling-factor 1.0] [--dtype F32|F16|BF16] [--seed 0]
            writes a random AutoencoderTiny folder: decoder.layers.* in diffusers' flat Sequential
            numbering plus a few encoder.layers.* tensors an importer must drop. TAESD itself is
            --channels 64,64,64,64 --blocks 3,3,3,1.
  latents   --out FILE [--batch 2] [--height 8] [--width 8] [--channels 4] [--seed 1]
            writes `latents` float32 (B, h, w, L) NHWC, standard normal.
  decode    --diffusers DIR --latents IN --output OUT
            writes `images` float32 (B, 8h, 8w, 3) NHWC, the raw decoder output.
  compare   --diffusers DIR --latents IN --java OUT [--tolerance 1e-4]
            decodes IN, prints max|delta|, max|ref| and their ratio as JSON, exits 1 when the
            ratio exceeds the tolerance.
  golden    prints the block outputs used by the Java block tests (VaeBlocksReferenceTest).
"""

import argparse
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

EPS = 1e-6

# ----------------------------------------------------------------------------- safetensors

_DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (np.uint16, 2)}


def read_safetensors(path):
    """({name: float32 tensor}, metadata); F16 and BF16 are widened to float32."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        dtype = entry["dtype"]
        if dtype not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype}")
        np_type, width = _DTYPES[dtype]
        begin, end = entry["data_offsets"]
        raw = np.frombuffer(data[base + begin:base + end], dtype=np.dtype(np_type).newbyteorder("<"))
        if dtype == "BF16":
            values = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            values = raw.astype(np.float32)
        tensors[name] = torch.from_numpy(values.copy()).reshape(entry["shape"])
    return tensors, meta


def write_safetensors(path, tensors, metadata=None, dtype="F32"):
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        a = t.detach().to(torch.float32).contiguous().numpy()
        if dtype == "F16":
            blob = a.astype("<f2").tobytes()
        elif dtype == "BF16":
            # Round to nearest even, as torch does.
            bits = a.astype("<f4").view(np.uint32).astype(np.uint64)
            bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
            blob = bits.astype("<u2").tobytes()
        else:
            blob = a.astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
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


# ----------------------------------------------------------------------------- decoder

def group_norm(w, p, x, groups):
    return F.group_norm(x, groups, w[p + "weight"], w[p + "bias"], eps=EPS)


def conv(w, p, x, pad):
    return F.conv2d(x, w[p + "weight"], w[p + "bias"], padding=pad)


def resnet(w, p, x, groups):
    h = conv(w, p + "conv1.", F.silu(group_norm(w, p + "norm1.", x, groups)), 1)
    h = conv(w, p + "conv2.", F.silu(group_norm(w, p + "norm2.", h, groups)), 1)
    if p + "conv_shortcut.weight" in w:
        x = conv(w, p + "conv_shortcut.", x, 0)
    return x + h


def attention_names(w, p):
    """The (q, k, v, out) prefixes of whichever naming the file uses."""
    if p + "to_q.weight" in w:
        return p + "to_q.", p + "to_k.", p + "to_v.", p + "to_out.0."
    return p + "query.", p + "key.", p + "value.", p + "proj_attn."


def attention(w, p, x, groups):
    """Single-head self-attention over the h*w positions, with a residual connection."""
    b, c, hh, ww = x.shape
    tokens = group_norm(w, p + "group_norm.", x, groups).reshape(b, c, hh * ww).transpose(1, 2)
    q_p, k_p, v_p, o_p = attention_names(w, p)
    lin = lambda z, q: F.linear(z, w[q + "weight"].reshape(c, c), w[q + "bias"])
    q, k, v = lin(tokens, q_p), lin(tokens, k_p), lin(tokens, v_p)
    weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)
    out = lin(weights @ v, o_p)  # (B, N, C)
    return x + out.transpose(1, 2).reshape(b, c, hh, ww)


def decode(cfg, w, z):
    """z: (B, L, h, w) latents as the DiT outputs them -> (B, 3, 8h, 8w) raw."""
    groups = cfg["norm_num_groups"]
    channels = cfg["block_out_channels"]
    resnets = cfg["layers_per_block"] + 1
    x = z / cfg.get("scaling_factor", 0.18215)
    x = conv(w, "post_quant_conv.", x, 0)
    x = conv(w, "decoder.conv_in.", x, 1)
    x = resnet(w, "decoder.mid_block.resnets.0.", x, groups)
    x = attention(w, "decoder.mid_block.attentions.0.", x, groups)
    x = resnet(w, "decoder.mid_block.resnets.1.", x, groups)
    for i in range(len(channels)):
        p = f"decoder.up_blocks.{i}."
        for j in range(resnets):
            x = resnet(w, f"{p}resnets.{j}.", x, groups)
        if i < len(channels) - 1:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = conv(w, p + "upsamplers.0.conv.", x, 1)
    x = F.silu(group_norm(w, "decoder.conv_norm_out.", x, groups))
    return conv(w, "decoder.conv_out.", x, 1)


# ----------------------------------------------------------------------------- tiny decoder

def tiny_layers(cfg):
    """DecoderTiny's nn.Sequential as a list of (index, kind, ...), numbered as diffusers numbers it:
    every module takes an index, ReLU and Upsample included."""
    channels = cfg["decoder_block_out_channels"]
    blocks = cfg["num_decoder_blocks"]
    out_ch = cfg.get("out_channels", 3)
    layers = [(0, "conv", cfg.get("latent_channels", 4), channels[0], True), (1, "relu")]
    i = 2
    for stage, (c, n) in enumerate(zip(channels, blocks)):
        last = stage == len(channels) - 1
        for _ in range(n):
            layers.append((i, "block", c))
            i += 1
        if not last:
            layers.append((i, "upsample"))
            i += 1
        layers.append((i, "conv", c, out_ch if last else channels[stage + 1], last))
        i += 1
    return layers


def tiny_shapes(cfg):
    shapes = {}
    for layer in tiny_layers(cfg):
        i, kind = layer[0], layer[1]
        if kind == "conv":
            cin, cout, bias = layer[2], layer[3], layer[4]
            shapes[f"decoder.layers.{i}.weight"] = (cout, cin, 3, 3)
            if bias:
                shapes[f"decoder.layers.{i}.bias"] = (cout,)
        elif kind == "block":
            c = layer[2]
            for k in (0, 2, 4):
                shapes[f"decoder.layers.{i}.conv.{k}.weight"] = (c, c, 3, 3)
                shapes[f"decoder.layers.{i}.conv.{k}.bias"] = (c,)
    return shapes


def tiny_decode(cfg, w, z):
    """DecoderTiny: z as the diffusion model emits it -> (B, 3, 8h, 8w) in [-1, 1] convention."""
    x = z / cfg.get("scaling_factor", 1.0)
    x = torch.tanh(x / 3) * 3
    for layer in tiny_layers(cfg):
        i, kind = layer[0], layer[1]
        p = f"decoder.layers.{i}."
        if kind == "conv":
            x = F.conv2d(x, w[p + "weight"], w.get(p + "bias"), padding=1)
        elif kind == "relu":
            x = F.relu(x)
        elif kind == "upsample":
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        else:  # AutoencoderTinyBlock: fuse(conv(x) + skip(x)), skip the identity, fuse a ReLU
            h = F.relu(F.conv2d(x, w[p + "conv.0.weight"], w[p + "conv.0.bias"], padding=1))
            h = F.relu(F.conv2d(h, w[p + "conv.2.weight"], w[p + "conv.2.bias"], padding=1))
            h = F.conv2d(h, w[p + "conv.4.weight"], w[p + "conv.4.bias"], padding=1)
            x = F.relu(h + x)
    return x * 2 - 1


def make_tiny(a):
    channels = [int(c) for c in a.channels.split(",")]
    blocks = [int(n) for n in a.blocks.split(",")]
    cfg = {"_class_name": "AutoencoderTiny", "_diffusers_version": "0.20.0", "act_fn": "relu",
           "decoder_block_out_channels": channels, "encoder_block_out_channels": channels,
           "force_upcast": False, "in_channels": 3, "latent_channels": a.latent_channels,
           "latent_magnitude": 3, "latent_shift": 0.5, "num_decoder_blocks": blocks,
           "num_encoder_blocks": [1, 3, 3, 3][:len(channels)], "out_channels": 3,
           "scaling_factor": a.scaling_factor, "upsample_fn": "nearest",
           "upsampling_scaling_factor": 2}
    w = random_weights(tiny_shapes(cfg), a.seed)
    g = torch.Generator().manual_seed(a.seed + 1)
    extra = {"encoder.layers.0.weight": torch.randn((channels[0], 3, 3, 3), generator=g),
             "encoder.layers.0.bias": torch.randn((channels[0],), generator=g)}
    tensors = dict(sorted({**extra, **w}.items()))
    import os
    os.makedirs(a.out, exist_ok=True)
    with open(f"{a.out}/config.json", "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(f"{a.out}/diffusion_pytorch_model.safetensors", tensors,
                      {"format": "pt"}, a.dtype)


def load_diffusers(folder):
    with open(f"{folder}/config.json") as f:
        cfg = json.load(f)
    if cfg.get("_class_name") not in ("AutoencoderKL", "AutoencoderTiny"):
        raise ValueError(f"{folder}/config.json: neither an AutoencoderKL nor an AutoencoderTiny")
    w, _ = read_safetensors(f"{folder}/diffusion_pytorch_model.safetensors")
    return cfg, w


def decode_file(folder, latents_path):
    cfg, w = load_diffusers(folder)
    t, _ = read_safetensors(latents_path)
    run = tiny_decode if cfg["_class_name"] == "AutoencoderTiny" else decode
    with torch.no_grad():
        images = run(cfg, w, t["latents"].permute(0, 3, 1, 2).contiguous())
    return images.permute(0, 2, 3, 1).contiguous()  # (B, H, W, 3)


# ----------------------------------------------------------------------------- random folders

def decoder_shapes(cfg):
    """{diffusers name (newer naming): shape} of the decoder and post_quant_conv."""
    ch = cfg["block_out_channels"]
    lat = cfg["latent_channels"]
    out_ch = cfg.get("out_channels", 3)
    top = ch[-1]
    shapes = {"post_quant_conv.weight": (lat, lat, 1, 1), "post_quant_conv.bias": (lat,),
              "decoder.conv_in.weight": (top, lat, 3, 3), "decoder.conv_in.bias": (top,)}

    def res(p, cin, cout):
        shapes.update({p + "norm1.weight": (cin,), p + "norm1.bias": (cin,),
                       p + "conv1.weight": (cout, cin, 3, 3), p + "conv1.bias": (cout,),
                       p + "norm2.weight": (cout,), p + "norm2.bias": (cout,),
                       p + "conv2.weight": (cout, cout, 3, 3), p + "conv2.bias": (cout,)})
        if cin != cout:
            shapes.update({p + "conv_shortcut.weight": (cout, cin, 1, 1),
                           p + "conv_shortcut.bias": (cout,)})

    res("decoder.mid_block.resnets.0.", top, top)
    a = "decoder.mid_block.attentions.0."
    shapes.update({a + "group_norm.weight": (top,), a + "group_norm.bias": (top,)})
    for n in ("to_q", "to_k", "to_v", "to_out.0"):
        shapes.update({f"{a}{n}.weight": (top, top), f"{a}{n}.bias": (top,)})
    res("decoder.mid_block.resnets.1.", top, top)
    prev = top
    for i, c in enumerate(reversed(ch)):
        for j in range(cfg["layers_per_block"] + 1):
            res(f"decoder.up_blocks.{i}.resnets.{j}.", prev if j == 0 else c, c)
        if i < len(ch) - 1:
            shapes.update({f"decoder.up_blocks.{i}.upsamplers.0.conv.weight": (c, c, 3, 3),
                           f"decoder.up_blocks.{i}.upsamplers.0.conv.bias": (c,)})
        prev = c
    shapes.update({"decoder.conv_norm_out.weight": (ch[0],), "decoder.conv_norm_out.bias": (ch[0],),
                   "decoder.conv_out.weight": (out_ch, ch[0], 3, 3),
                   "decoder.conv_out.bias": (out_ch,)})
    return shapes


def random_weights(shapes, seed):
    """Kernels N(0, 1/fan_in); norm scales 1 + N(0, 0.1^2); shifts and biases N(0, 0.1^2)."""
    g = torch.Generator().manual_seed(seed)
    w = {}
    for name, shape in shapes.items():
        r = torch.randn(shape, generator=g, dtype=torch.float32)
        if name.endswith("weight") and len(shape) >= 2:
            w[name] = r / math.sqrt(math.prod(shape[1:]))
        elif "norm" in name and name.endswith("weight"):
            w[name] = 1 + 0.1 * r
        else:
            w[name] = 0.1 * r
    return w


def make_diffusers(a):
    cfg = {"_class_name": "AutoencoderKL", "_diffusers_version": "0.21.0", "act_fn": "silu",
           "block_out_channels": [int(c) for c in a.block_out_channels.split(",")],
           "down_block_types": ["DownEncoderBlock2D"] * len(a.block_out_channels.split(",")),
           "in_channels": 3, "latent_channels": a.latent_channels,
           "layers_per_block": a.layers_per_block, "norm_num_groups": a.norm_num_groups,
           "out_channels": 3, "sample_size": 256, "scaling_factor": a.scaling_factor,
           "up_block_types": ["UpDecoderBlock2D"] * len(a.block_out_channels.split(","))}
    w = random_weights(decoder_shapes(cfg), a.seed)
    if a.naming != "new":
        old = {"to_q.": "query.", "to_k.": "key.", "to_v.": "value.", "to_out.0.": "proj_attn."}
        renamed = {}
        for name, t in w.items():
            for new_name, old_name in old.items():
                key = "decoder.mid_block.attentions.0." + new_name
                if name.startswith(key):
                    name = "decoder.mid_block.attentions.0." + old_name + name[len(key):]
                    if a.naming == "old-conv" and t.dim() == 2:
                        t = t.reshape(*t.shape, 1, 1)
            renamed[name] = t
        w = renamed
    c0, lat = cfg["block_out_channels"][0], cfg["latent_channels"]
    g = torch.Generator().manual_seed(a.seed + 1)
    extra = {"encoder.conv_in.weight": torch.randn((c0, 3, 3, 3), generator=g),
             "encoder.conv_in.bias": torch.randn((c0,), generator=g),
             "quant_conv.weight": torch.randn((2 * lat, 2 * lat, 1, 1), generator=g),
             "quant_conv.bias": torch.randn((2 * lat,), generator=g)}
    tensors = dict(sorted({**extra, **w}.items()))  # diffusers files list names sorted
    import os
    os.makedirs(a.out, exist_ok=True)
    with open(f"{a.out}/config.json", "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(f"{a.out}/diffusion_pytorch_model.safetensors", tensors,
                      {"format": "pt"}, a.dtype)


def make_latents(a):
    g = torch.Generator().manual_seed(a.seed)
    z = torch.randn((a.batch, a.height, a.width, a.channels), generator=g)
    write_safetensors(a.out, {"latents": z})


# ----------------------------------------------------------------------------- golden values

def formula(shape, salt, scale):
    """scale * sin(0.37 k + salt) over the flat index k, as the Java tests compute it."""
    n = math.prod(shape)
    k = torch.arange(n, dtype=torch.float64)
    return (scale * torch.sin(0.37 * k + salt)).to(torch.float32).reshape(shape)


def golden():
    def show(label, t):
        flat = t.reshape(-1).tolist()
        print(f"{label} = {{" + ", ".join(f"{v:.8g}f" for v in flat) + "};")

    # Resnet 8 -> 4 channels (with conv_shortcut), 2 groups, x (2, 8, 3, 3).
    p = "r."
    w = {p + "norm1.weight": formula((8,), 0, 0.5) + 1, p + "norm1.bias": formula((8,), 0.5, 0.1),
         p + "conv1.weight": formula((4, 8, 3, 3), 1, 0.3), p + "conv1.bias": formula((4,), 1.5, 0.1),
         p + "norm2.weight": formula((4,), 2, 0.5) + 1, p + "norm2.bias": formula((4,), 2.5, 0.1),
         p + "conv2.weight": formula((4, 4, 3, 3), 3, 0.3), p + "conv2.bias": formula((4,), 3.5, 0.1),
         p + "conv_shortcut.weight": formula((4, 8, 1, 1), 4, 0.3),
         p + "conv_shortcut.bias": formula((4,), 4.5, 0.1)}
    x = formula((2, 8, 3, 3), 7, 1.0)
    show("RESNET", resnet(w, p, x, 2))
    # Attention, 8 channels, 2 groups, x (2, 8, 2, 3): 6 positions.
    p = "a."
    w = {p + "group_norm.weight": formula((8,), 10, 0.5) + 1,
         p + "group_norm.bias": formula((8,), 10.5, 0.1)}
    for salt, n in enumerate(("to_q", "to_k", "to_v", "to_out.0")):
        w[f"{p}{n}.weight"] = formula((8, 8), 11 + salt, 0.5)
        w[f"{p}{n}.bias"] = formula((8,), 11.5 + salt, 0.1)
    show("ATTENTION", attention(w, p, formula((2, 8, 2, 3), 8, 1.0), 2))
    # Nearest x2 upsampling + conv, 4 channels, x (1, 4, 2, 2).
    w = {"u.weight": formula((4, 4, 3, 3), 20, 0.3), "u.bias": formula((4,), 20.5, 0.1)}
    up = F.interpolate(formula((1, 4, 2, 2), 9, 1.0), scale_factor=2.0, mode="nearest")
    show("UPSAMPLE", conv(w, "u.", up, 1))


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-diffusers")
    m.add_argument("--out", required=True)
    m.add_argument("--block-out-channels", default="32,64")
    m.add_argument("--layers-per-block", type=int, default=1)
    m.add_argument("--norm-num-groups", type=int, default=8)
    m.add_argument("--latent-channels", type=int, default=4)
    m.add_argument("--scaling-factor", type=float, default=0.18215)
    m.add_argument("--naming", choices=["new", "old", "old-conv"], default="new")
    m.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32")
    m.add_argument("--seed", type=int, default=0)
    mt = sub.add_parser("make-tiny")
    mt.add_argument("--out", required=True)
    mt.add_argument("--channels", default="16,16,16,16")
    mt.add_argument("--blocks", default="1,2,1,1")
    mt.add_argument("--latent-channels", type=int, default=4)
    mt.add_argument("--scaling-factor", type=float, default=1.0)
    mt.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32")
    mt.add_argument("--seed", type=int, default=0)
    lt = sub.add_parser("latents")
    lt.add_argument("--out", required=True)
    lt.add_argument("--batch", type=int, default=2)
    lt.add_argument("--height", type=int, default=8)
    lt.add_argument("--width", type=int, default=8)
    lt.add_argument("--channels", type=int, default=4)
    lt.add_argument("--seed", type=int, default=1)
    d = sub.add_parser("decode")
    d.add_argument("--diffusers", required=True)
    d.add_argument("--latents", required=True)
    d.add_argument("--output", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--diffusers", required=True)
    c.add_argument("--latents", required=True)
    c.add_argument("--java", required=True)
    c.add_argument("--tolerance", type=float, default=1e-4)
    sub.add_parser("golden")
    a = ap.parse_args()

    torch.set_printoptions(precision=8)
    if a.cmd == "make-diffusers":
        make_diffusers(a)
    elif a.cmd == "make-tiny":
        make_tiny(a)
    elif a.cmd == "latents":
        make_latents(a)
    elif a.cmd == "decode":
        write_safetensors(a.output, {"images": decode_file(a.diffusers, a.latents)})
    elif a.cmd == "compare":
        ref = decode_file(a.diffusers, a.latents)
        java, _ = read_safetensors(a.java)
        got = java["images"]
        if tuple(got.shape) != tuple(ref.shape):
            print(f"shape mismatch: java {tuple(got.shape)}, reference {tuple(ref.shape)}")
            sys.exit(1)
        delta = (got - ref).abs().max().item()
        scale = ref.abs().max().item()
        ratio = delta / scale
        print(json.dumps({"shape": list(ref.shape), "max_abs_delta": delta, "max_abs_ref": scale,
                          "relative": ratio, "tolerance": a.tolerance,
                          "torch": torch.__version__}))
        if not ratio <= a.tolerance:
            sys.exit(1)
    elif a.cmd == "golden":
        golden()


if __name__ == "__main__":
    main()
