#!/usr/bin/env python3
"""numpy reference of the paper's DiT computed straight from a checkpoint's Flax parameter tree.

Independent of the importer and of the Java network: written from the reference model.py
(github.com/gudovskiy/odelt; DESIGN.md §1 and §5) and reading the pickle's own Flax names and
layouts (Dense kernels (in, out), conv kernel (kh, kw, in, out), NHWC). Comparing it with the Java
velocity of an imported package checks the whole chain checkpoint → import → network, including
the name mapping and every transpose. numpy and the standard library only.

The checkpoint is unpickled with a restricted Unpickler: numpy's array constructors (numpy 1.x or
2.x names), FrozenDict and OrderedDict are honoured, every other class becomes an inert stand-in.
Only run it on files you made (tools/make_checkpoint.py); it computes in float64.

Commands:
  inputs    --checkpoint CKPT --output IN.safetensors [--batch B] [--image-size H] [--seed S]
            writes x float32 (B, H, W, C) NHWC, t float32 (B), level int64 (B), label int64 (B)
            (labels include the null label K), the format of the job's `velocity` subcommand.
  velocity  --checkpoint CKPT --inputs IN --blocks L --heads N --group-size G --output OUT
            [--weights params|params_ema] [--position-layout column|row]
            writes v float32 (B, H, W, C). `column` is the reference's layout; `row` the layout of
            packages written before the position_layout field (odelt-mnist <= 1.0.0).
  compare   --expected A.safetensors --actual B.safetensors [--name v] [--tolerance 1e-4]
            prints the max abs difference and its ratio to max |expected|; exits 1 above tolerance.
"""

import argparse
import collections
import importlib
import json
import math
import pickle
import struct
import sys

import numpy as np


# ----------------------------------------------------------------------------- safe unpickling

def _numpy_core(sub):
    for name in ('numpy._core.' + sub, 'numpy.core.' + sub):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError('numpy core module ' + sub)


class _Inert:
    """Stand-in for every class the checkpoint names that this script does not honour."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


class _FrozenDict(dict):
    """flax.core.frozen_dict.FrozenDict as a plain dict: REDUCE (dict) or NEWOBJ + BUILD state."""

    def __setstate__(self, state):
        if isinstance(state, tuple):
            state = state[1] or state[0]
        self.update(state['_dict'])


class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module in ('numpy.core.multiarray', 'numpy._core.multiarray') and name in (
                '_reconstruct', 'scalar'):
            return getattr(_numpy_core('multiarray'), name)
        if module in ('numpy.core.numeric', 'numpy._core.numeric') and name == '_frombuffer':
            return _numpy_core('numeric')._frombuffer
        if (module, name) == ('numpy', 'ndarray'):
            return np.ndarray
        if (module, name) == ('numpy', 'dtype'):
            return np.dtype
        if (module, name) == ('_codecs', 'encode'):
            return lambda text, encoding: text.encode(encoding)
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        if (module, name) == ('flax.core.frozen_dict', 'FrozenDict'):
            return _FrozenDict
        return type(name, (_Inert,), {'__module__': module})


def load_params(path, slot):
    with open(path, 'rb') as f:
        root = SafeUnpickler(f).load()
    if 'train_state' in root:
        root = root['train_state']
    return root[slot]


# ----------------------------------------------------------------------------- safetensors

DTYPES = {'F32': '<f4', 'I64': '<i8', 'F64': '<f8'}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    header.pop('__metadata__', None)
    out = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        out[name] = np.frombuffer(data[8 + n + begin:8 + n + end],
                                  DTYPES[e['dtype']]).reshape(e['shape'])
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        code = {np.dtype('<f4'): 'F32', np.dtype('<i8'): 'I64'}[a.dtype]
        blob = np.ascontiguousarray(a).tobytes()
        header[name] = {'dtype': code, 'shape': list(a.shape),
                        'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


# ----------------------------------------------------------------------------- the network

def dense(p, x):
    return x @ p['kernel'].astype(np.float64) + p['bias'].astype(np.float64)


def silu(x):
    return x / (1.0 + np.exp(-x))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, eps=1e-6):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def modulate(x, shift, scale):
    return x * (1.0 + scale[:, None]) + shift[:, None]


def timestep_embedding(t, dim=256, max_period=10000.0):
    half = dim // 2
    freqs = np.exp(-math.log(max_period) * np.arange(half, dtype=np.float64) / half)
    args = t.astype(np.float64)[:, None] * freqs[None]
    return np.concatenate([np.cos(args), np.sin(args)], axis=-1)


def timestep_embedder(p, t):
    return dense(p['Dense_1'], silu(dense(p['Dense_0'], timestep_embedding(t))))


def sincos_1d(dim, pos):
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    out = pos.reshape(-1)[:, None] * omega[None]
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def position_embedding(dim, grid, layout):
    """The reference's get_2d_sincos_pos_embed: meshgrid(grid_w, grid_h), so the first half of
    the channels encodes the token's column ('column'); 'row' swaps the halves."""
    cols, rows = np.meshgrid(np.arange(grid, dtype=np.float64), np.arange(grid, dtype=np.float64))
    first, second = (cols, rows) if layout == 'column' else (rows, cols)
    return np.concatenate([sincos_1d(dim // 2, first), sincos_1d(dim // 2, second)], axis=1)


def dit_block(p, x, c, heads):
    shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = np.split(
        dense(p['Dense_0'], silu(c)), 6, axis=-1)
    h = modulate(layer_norm(x), shift_msa, scale_msa)
    b, n, d = h.shape
    hd = d // heads
    k = dense(p['Dense_1'], h).reshape(b, n, heads, hd)
    q = dense(p['Dense_2'], h).reshape(b, n, heads, hd) / hd  # 1/head_dim, not its root
    v = dense(p['Dense_3'], h).reshape(b, n, heads, hd)
    w = np.einsum('bqhc,bkhc->bhqk', q, k)
    w = np.exp(w - w.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    y = np.einsum('bhqk,bkhc->bqhc', w, v).reshape(b, n, d)
    x = x + gate_msa[:, None] * dense(p['Dense_4'], y)
    h = modulate(layer_norm(x), shift_mlp, scale_mlp)
    mlp = dense(p['MlpBlock_0']['Dense_1'], gelu_tanh(dense(p['MlpBlock_0']['Dense_0'], h)))
    return x + gate_mlp[:, None] * mlp


def velocity(params, x, t, level, label, blocks, heads, group, layout):
    """v for NHWC x (B, H, W, C), as the reference DiT.__call__ with depth_wise = blocks."""
    b, size, _, channels = x.shape
    kernel = params['PatchEmbed_0']['Conv_0']['kernel'].astype(np.float64)  # (p, p, C, D)
    patch, width = kernel.shape[0], kernel.shape[3]
    grid = size // patch
    patches = x.astype(np.float64).reshape(b, grid, patch, grid, patch, channels)
    patches = patches.transpose(0, 1, 3, 2, 4, 5).reshape(b, grid * grid, patch * patch * channels)
    tokens = patches @ kernel.reshape(-1, width) + params['PatchEmbed_0']['Conv_0']['bias']
    tokens = tokens + position_embedding(width, grid, layout)[None]
    c = (timestep_embedder(params['TimestepEmbedder_0'], t)
         + timestep_embedder(params['TimestepEmbedder_1'], level.astype(np.float64))
         + params['LabelEmbedder_0']['Embed_0']['embedding'].astype(np.float64)[label])
    cb = c + params['BlockEmbedder_0']['Embed_0']['embedding'].astype(np.float64)[blocks][None]
    xr, vr = tokens, np.zeros_like(tokens)
    for i in range(blocks):
        vb = dit_block(params[f'DiTBlock_{i}'], xr, cb, heads)
        if i % group == group - 1:
            xr = xr + vb
            vr = vr + vb
        else:
            xr = vb
    final = params['FinalLayer_0']
    shift, scale = np.split(dense(final['Dense_0'], silu(c)), 2, axis=-1)
    out = dense(final['Dense_1'], modulate(layer_norm(vr), shift, scale))
    out = out.reshape(b, grid, grid, patch, patch, channels).transpose(0, 1, 3, 2, 4, 5)
    return out.reshape(b, size, size, channels)


# ----------------------------------------------------------------------------- commands

def cmd_inputs(args):
    params = load_params(args.checkpoint, 'params')
    kernel = params['PatchEmbed_0']['Conv_0']['kernel']
    channels = kernel.shape[2]
    classes = params['LabelEmbedder_0']['Embed_0']['embedding'].shape[0] - 1
    rng = np.random.default_rng(args.seed)
    b, h = args.batch, args.image_size
    write_safetensors(args.output, {
        'x': rng.standard_normal((b, h, h, channels)).astype(np.float32),
        't': rng.uniform(0, 1, b).astype(np.float32),
        'level': rng.integers(0, 8, b).astype(np.int64),
        'label': np.arange(b, dtype=np.int64) % (classes + 1),  # includes the null label
    })


def cmd_velocity(args):
    params = load_params(args.checkpoint, args.weights)
    inputs = read_safetensors(args.inputs)
    v = velocity(params, inputs['x'], inputs['t'], inputs['level'], inputs['label'], args.blocks,
                 args.heads, args.group_size, args.position_layout)
    write_safetensors(args.output, {'v': v.astype(np.float32)})


def cmd_compare(args):
    expected = read_safetensors(args.expected)[args.name].astype(np.float64)
    actual = read_safetensors(args.actual)[args.name].astype(np.float64)
    if expected.shape != actual.shape:
        print(f'shape {actual.shape} != expected {expected.shape}')
        return 1
    diff = float(np.abs(expected - actual).max())
    scale = float(np.abs(expected).max())
    print(json.dumps({'max_abs_diff': diff, 'max_abs_expected': scale,
                      'relative': diff / scale if scale else diff, 'tolerance': args.tolerance}))
    return 0 if diff <= args.tolerance else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='command', required=True)
    i = sub.add_parser('inputs')
    i.add_argument('--checkpoint', required=True)
    i.add_argument('--output', required=True)
    i.add_argument('--batch', type=int, default=3)
    i.add_argument('--image-size', type=int, default=8)
    i.add_argument('--seed', type=int, default=0)
    v = sub.add_parser('velocity')
    v.add_argument('--checkpoint', required=True)
    v.add_argument('--inputs', required=True)
    v.add_argument('--output', required=True)
    v.add_argument('--blocks', type=int, required=True)
    v.add_argument('--heads', type=int, required=True)
    v.add_argument('--group-size', type=int, required=True)
    v.add_argument('--weights', default='params', choices=('params', 'params_ema'))
    v.add_argument('--position-layout', default='column', choices=('column', 'row'))
    c = sub.add_parser('compare')
    c.add_argument('--expected', required=True)
    c.add_argument('--actual', required=True)
    c.add_argument('--name', default='v')
    c.add_argument('--tolerance', type=float, default=1e-4)
    args = p.parse_args(argv)
    return {'inputs': cmd_inputs, 'velocity': cmd_velocity, 'compare': cmd_compare}[
        args.command](args) or 0


if __name__ == '__main__':
    sys.exit(main())
