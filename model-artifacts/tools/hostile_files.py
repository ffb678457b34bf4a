#!/usr/bin/env python3
"""Writes hostile input files for the job jar's readers, and the case list that runs them.

Families (each case must end in exit 2 with a one-line message, in time, under a memory cap):
pickles for import-checkpoint (deep nesting of tuple keys, frozensets, lists, dicts and JAX-style
reconstruct chains; shared tuple chains and shared dict fan-outs; MARK floods; shapes, kernels and
step arrays whose sizes overflow; NaN weights; a block index of 10^9; code-running payloads;
truncations), safetensors files for velocity, decode and import-vae (lenient or wrong JSON,
non-integer, wrapped or overlapping offsets, names twice, huge headers, NaN latents, latents too
large for the decoder), model packages for velocity and the job (weights outside the package,
devices, pipes and symlinks, digests, NaN weights, architecture and preset values beyond the
limits, huge manifests, missing or mismatched decoders) and diffusers folders for import-vae.
A seeded mutator adds random byte flips, truncations and splices of valid files (exit 0 or 2).

Usage:
  hostile_files.py setup WORK                 base inputs + WORK/setup.tsv (valid, exit 0)
  hostile_files.py cases WORK --seed S --mutants N   hostile cases + WORK/cases.tsv

Needs only numpy and the standard library (make_checkpoint.py for the base checkpoint).
"""
import argparse
import copy
import hashlib
import json
import os
import pickle
import random
import shutil
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_checkpoint  # noqa: E402

IMPORT_FLAGS = ['--imageSize=8', '--heads=4', '--depthMin=2', '--groupSize=2']


# ----------------------------------------------------------------------------- file formats

def safetensors(tensors, header_override=None, metadata=None):
    """Bytes of a safetensors file of {name: np.ndarray}; header_override replaces the JSON."""
    header, data, offset = {}, b'', 0
    if metadata:
        header['__metadata__'] = metadata
    for name, a in tensors.items():
        dtype = {np.dtype('float32'): 'F32', np.dtype('int64'): 'I64'}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(a.shape),
                        'data_offsets': [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    text = header_override if header_override is not None else json.dumps(header)
    raw = text.encode('utf-8') if isinstance(text, str) else text
    raw += b' ' * (-len(raw) % 8)
    return struct.pack('<Q', len(raw)) + raw + data


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        dt = {'F32': '<f4', 'I64': '<i8'}[e['dtype']]
        b, end = e['data_offsets']
        out[name] = np.frombuffer(data[b:end], dtype=dt).reshape(e['shape']).copy()
    return out


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# Pickle opcodes, written by hand where the standard pickler would refuse or recurse.
PROTO5 = b'\x80\x05'
STOP = b'.'


def short_str(s):
    b = s.encode('utf-8')
    return b'\x8c' + bytes([len(b)]) + b


def global_(module, name):
    return short_str(module) + short_str(name) + b'\x93'


# ----------------------------------------------------------------------------- the VAE (numpy)

def vae_shapes(cfg):
    """The diffusers AutoencoderKL decoder's tensor shapes (as vae_reference.py lists them)."""
    ch = cfg['block_out_channels']
    lat, out_ch, top = cfg['latent_channels'], cfg.get('out_channels', 3), ch[-1]
    shapes = {'post_quant_conv.weight': (lat, lat, 1, 1), 'post_quant_conv.bias': (lat,),
              'decoder.conv_in.weight': (top, lat, 3, 3), 'decoder.conv_in.bias': (top,)}

    def res(p, cin, cout):
        shapes.update({p + 'norm1.weight': (cin,), p + 'norm1.bias': (cin,),
                       p + 'conv1.weight': (cout, cin, 3, 3), p + 'conv1.bias': (cout,),
                       p + 'norm2.weight': (cout,), p + 'norm2.bias': (cout,),
                       p + 'conv2.weight': (cout, cout, 3, 3), p + 'conv2.bias': (cout,)})
        if cin != cout:
            shapes.update({p + 'conv_shortcut.weight': (cout, cin, 1, 1),
                           p + 'conv_shortcut.bias': (cout,)})

    res('decoder.mid_block.resnets.0.', top, top)
    a = 'decoder.mid_block.attentions.0.'
    shapes.update({a + 'group_norm.weight': (top,), a + 'group_norm.bias': (top,)})
    for n in ('to_q', 'to_k', 'to_v', 'to_out.0'):
        shapes.update({f'{a}{n}.weight': (top, top), f'{a}{n}.bias': (top,)})
    res('decoder.mid_block.resnets.1.', top, top)
    prev = top
    for i, c in enumerate(reversed(ch)):
        for j in range(cfg['layers_per_block'] + 1):
            res(f'decoder.up_blocks.{i}.resnets.{j}.', prev if j == 0 else c, c)
        if i < len(ch) - 1:
            shapes.update({f'decoder.up_blocks.{i}.upsamplers.0.conv.weight': (c, c, 3, 3),
                           f'decoder.up_blocks.{i}.upsamplers.0.conv.bias': (c,)})
        prev = c
    shapes.update({'decoder.conv_norm_out.weight': (ch[0],), 'decoder.conv_norm_out.bias': (ch[0],),
                   'decoder.conv_out.weight': (out_ch, ch[0], 3, 3),
                   'decoder.conv_out.bias': (out_ch,)})
    return shapes


def vae_config(latent=4):
    return {'_class_name': 'AutoencoderKL', 'act_fn': 'silu', 'block_out_channels': [8, 16],
            'in_channels': 3, 'latent_channels': latent, 'layers_per_block': 1,
            'norm_num_groups': 4, 'out_channels': 3, 'sample_size': 32,
            'scaling_factor': 0.18215, 'up_block_types': ['UpDecoderBlock2D'] * 2}


def vae_tensors(cfg, seed):
    rng = np.random.default_rng(seed)
    return {n: (rng.standard_normal(s) * 0.1).astype(np.float32)
            for n, s in sorted(vae_shapes(cfg).items())}


def write_diffusers(folder, cfg, tensors, config_text=None):
    os.makedirs(folder, exist_ok=True)
    write(f'{folder}/config.json',
          (config_text if config_text is not None else json.dumps(cfg)).encode('utf-8'))
    write(f'{folder}/diffusion_pytorch_model.safetensors', safetensors(tensors))


# ----------------------------------------------------------------------------- setup

def checkpoint_state(seed=0, mutate=None):
    values = make_checkpoint.Values('random', seed, 0.1)
    params = make_checkpoint.flax_params(values, 32, 4, 10, 4, 2, 4.0)
    if mutate:
        mutate(params)
    return {'params': params, 'step': np.array(100, dtype=np.int32)}


def dump_checkpoint(path, state):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        make_checkpoint.Pickler(f, 5, 1).dump(state)


def velocity_inputs(batch=2, side=8, channels=4, seed=0):
    rng = np.random.default_rng(seed)
    return {'x': rng.standard_normal((batch, side, side, channels)).astype(np.float32),
            't': np.full((batch,), 0.5, dtype=np.float32),
            'level': np.full((batch,), 3, dtype=np.int64),
            'label': np.arange(batch, dtype=np.int64) % 10}


def setup(work):
    """Valid inputs, and the command lines (exit 0) that turn them into packages."""
    dump_checkpoint(f'{work}/base/ckpt.pkl', checkpoint_state())
    write_diffusers(f'{work}/base/diffusers', vae_config(), vae_tensors(vae_config(), 1))
    write_diffusers(f'{work}/base/diffusers8', vae_config(8), vae_tensors(vae_config(8), 2))
    write(f'{work}/base/inputs.safetensors', safetensors(velocity_inputs()))
    rng = np.random.default_rng(3)
    write(f'{work}/base/latents.safetensors',
          safetensors({'latents': rng.standard_normal((1, 4, 4, 4)).astype(np.float32)}))
    write(f'{work}/base/requests.jsonl', b'{"request_id": "a", "class_id": 1}\n')
    rows = [
        ('setup-import-vae', '0', '-', 'import-vae', f'--diffusers={work}/base/diffusers',
         f'--output={work}/vae'),
        ('setup-import-vae8', '0', '-', 'import-vae', f'--diffusers={work}/base/diffusers8',
         f'--output={work}/vae8'),
        ('setup-import-checkpoint', '0', '-', 'import-checkpoint',
         f'--checkpoint={work}/base/ckpt.pkl', f'--output={work}/pkg', *IMPORT_FLAGS),
        ('setup-import-latent', '0', '-', 'import-checkpoint',
         f'--checkpoint={work}/base/ckpt.pkl', f'--output={work}/lpkg', f'--vae={work}/vae',
         *IMPORT_FLAGS),
        ('setup-velocity', '0', '-', 'velocity', f'--model={work}/pkg',
         f'--inputs={work}/base/inputs.safetensors', '--blocks=4',
         f'--output={work}/base/v.safetensors'),
        ('setup-decode', '0', '-', 'decode', f'--vae={work}/vae',
         f'--latents={work}/base/latents.safetensors', f'--output={work}/base/images.safetensors'),
    ]
    with open(f'{work}/setup.tsv', 'w') as f:
        for r in rows:
            f.write('\t'.join(r) + '\n')


# ----------------------------------------------------------------------------- cases

class Cases:
    def __init__(self, work):
        self.work = work
        self.rows = []
        self.families = {}

    def dir(self, name):
        d = f'{self.work}/cases/{name}'
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d

    def out(self, name):
        return f'{self.work}/out/{name}'

    def add(self, family, name, expected, output, args):
        self.families[family] = self.families.get(family, 0) + 1
        self.rows.append((name, expected, output, *args))

    # -- commands
    def import_checkpoint(self, family, name, pkl, expected='2'):
        o = self.out(name)
        self.add(family, name, expected, o,
                 ['import-checkpoint', f'--checkpoint={pkl}', f'--output={o}', *IMPORT_FLAGS])

    def velocity(self, family, name, model, inputs=None, expected='2'):
        o = self.out(name) + '.safetensors'
        self.add(family, name, expected, o,
                 ['velocity', f'--model={model}',
                  f'--inputs={inputs or self.work + "/base/inputs.safetensors"}', '--blocks=4',
                  f'--output={o}'])

    def decode(self, family, name, latents, vae=None, expected='2'):
        o = self.out(name) + '.safetensors'
        self.add(family, name, expected, o,
                 ['decode', f'--vae={vae or self.work + "/vae"}', f'--latents={latents}',
                  f'--output={o}'])

    def import_vae(self, family, name, folder, expected='2'):
        o = self.out(name)
        self.add(family, name, expected, o,
                 ['import-vae', f'--diffusers={folder}', f'--output={o}'])

    def job(self, family, name, model, expected='2'):
        o = self.out(name)
        self.add(family, name, expected, o,
                 [f'--requests={self.work}/base/requests.jsonl', f'--output={o}',
                  f'--model={model}'])

    def write(self):
        with open(f'{self.work}/cases.tsv', 'w') as f:
            for r in self.rows:
                f.write('\t'.join(r) + '\n')


def pickles(c):
    fam = 'pickle'

    def raw(name, body):
        d = c.dir(name)
        write(f'{d}/ckpt.pkl', PROTO5 + body + STOP)
        c.import_checkpoint(fam, name, f'{d}/ckpt.pkl')

    # Deep tuples as a dict key: {((((...),),),): 1}
    for depth in (5000, 100000):
        raw(f'pickle-deep-tuple-key-{depth}',
            b'}' + b')' + b'\x85' * depth + b'K\x01s')
    # Deep frozensets: frozenset({frozenset({...})})
    raw('pickle-deep-frozenset-5000', b'}' + short_str('k') + b'(' * 5000 + b'\x91' * 5000 + b's')
    # Deep lists and dicts as values
    raw('pickle-deep-list-100000', b'}' + short_str('params') + b']' * 100000 + b'a' * 99999 + b's')
    raw('pickle-deep-dict-100000',
        b'}' + short_str('params') + b'}' + (short_str('a') + b'}') * 100000 + b's' * 100001)
    # JAX-style reconstruct chain: _reconstruct_array(f, (_reconstruct_array(f, (...)), ...), ...)
    g = global_('jax._src.array', '_reconstruct_array')
    raw('pickle-jax-chain-5000', b'}' + short_str('params') + g + b'\x94' + b'0'
        + _jax_chain(5000) + b's')
    # A chain of shared tuples as a key: t_{i+1} = (t_i, t_i)
    for depth in (30, 60):
        body = b')' + b'\x94'
        for i in range(depth):
            body += b'0' + b'h' + bytes([i]) + b'h' + bytes([i]) + b'\x86' + b'\x94'
        raw(f'pickle-shared-tuple-key-{depth}', b'}' + body + b'K\x01s')
    # 12 levels x 8 keys, all pointing at one child
    body = b'}' + b'\x94'  # level 0: empty dict, memo 0
    for level in range(12):
        body += b'0' + b'}' + b'('
        for k in range(8):
            body += short_str(f'k{k}') + b'h' + bytes([level])
        body += b'u' + b'\x94'
    raw('pickle-shared-fanout-12x8', b'}' + short_str('params') + body + b's')
    # MARK floods
    raw('pickle-mark-flood-10mb', b'(' * (10 << 20))
    raw('pickle-stack-flood', b'N' * (6 << 20))
    raw('pickle-append-flood', b']' + b'Na' * (10 << 20))
    # Lengths beyond the file
    raw('pickle-unicode-length', b'X\xff\xff\xff\x7f' + b'a' * 10)
    raw('pickle-bytes8-length', b'\x8e' + struct.pack('<Q', 1 << 62) + b'a')
    raw('pickle-long4-huge', b'\x8b' + struct.pack('<i', 1 << 30) + b'\x01' * 10)
    raw('pickle-memo-missing', b'h\x07')
    raw('pickle-underflow', b's')
    raw('pickle-ext', b'\x82\x01')
    raw('pickle-persistent', b'N' + b'Q')
    # Code-running payloads: inert placeholders, then no params
    for i, (mod, fn, arg) in enumerate([('os', 'system', 'true'), ('builtins', 'eval', '1+1'),
                                        ('subprocess', 'check_output', 'id'),
                                        ('builtins', 'exec', 'import os')]):
        raw(f'pickle-payload-{i}', global_(mod, fn) + short_str(arg) + b'\x85R')
    # Not pickles, truncated, empty
    d = c.dir('pickle-empty')
    write(f'{d}/ckpt.pkl', b'')
    c.import_checkpoint(fam, 'pickle-empty', f'{d}/ckpt.pkl')
    d = c.dir('pickle-text')
    write(f'{d}/ckpt.pkl', b'hello world\n' * 100)
    c.import_checkpoint(fam, 'pickle-text', f'{d}/ckpt.pkl')
    base = open(f'{c.work}/base/ckpt.pkl', 'rb').read()
    for cut in (3, len(base) // 3, len(base) - 1):
        d = c.dir(f'pickle-truncated-{cut}')
        write(f'{d}/ckpt.pkl', base[:cut])
        c.import_checkpoint(fam, f'pickle-truncated-{cut}', f'{d}/ckpt.pkl')
    # Special files
    for name, target in (('pickle-dev-zero', '/dev/zero'), ('pickle-dev-urandom', '/dev/urandom')):
        d = c.dir(name)
        os.symlink(target, f'{d}/ckpt.pkl')
        c.import_checkpoint(fam, name, f'{d}/ckpt.pkl')
    d = c.dir('pickle-directory')
    os.makedirs(f'{d}/ckpt.pkl')
    c.import_checkpoint(fam, 'pickle-directory', f'{d}/ckpt.pkl')
    d = c.dir('pickle-fifo')
    os.mkfifo(f'{d}/ckpt.pkl')
    c.import_checkpoint(fam, 'pickle-fifo', f'{d}/ckpt.pkl')


def _jax_chain(depth):
    """depth nested jax._src.array._reconstruct_array calls (the global is memo 0)."""
    body = b'N'
    for _ in range(depth):
        # callable, (fn, (inner,), state, aval) -> REDUCE
        body = b'h\x00' + b'(' + b'N' + body + b'\x85' + b'N' + b'N' + b't' + b'\x85' + b'R'
    return body


def checkpoint_values(c):
    fam = 'checkpoint-values'

    def case(name, mutate):
        d = c.dir(name)
        state = checkpoint_state(mutate=mutate)
        dump_checkpoint(f'{d}/ckpt.pkl', state)
        c.import_checkpoint(fam, name, f'{d}/ckpt.pkl')

    def kernel(shape):
        def m(p):
            p['PatchEmbed_0']['Conv_0']['kernel'] = _declared(shape)
        return m

    def nan(p):
        p['DiTBlock_1']['Dense_2']['kernel'][3, 5] = np.nan

    def inf(p):
        p['FinalLayer_0']['Dense_1']['bias'][0] = np.inf

    def block(index):
        def m(p):
            p[f'DiTBlock_{index}'] = copy.deepcopy(p['DiTBlock_0'])
        return m

    def classes(p):
        p['LabelEmbedder_0']['Embed_0']['embedding'] = _declared((2 ** 31, 32))

    case('checkpoint-nan-weight', nan)
    case('checkpoint-inf-weight', inf)
    case('checkpoint-kernel-2e32', kernel((2 ** 32, 2 ** 32, 4, 32)))
    case('checkpoint-kernel-side-2e32', kernel((2 ** 32, 2 ** 32, 1, 1)))
    case('checkpoint-kernel-zero', kernel((0, 0, 4, 32)))
    case('checkpoint-kernel-64', kernel((64, 64, 4, 32)))
    case('checkpoint-classes-2e31', classes)
    case('checkpoint-block-1e9', block(10 ** 9))
    case('checkpoint-block-2e31', block(2 ** 31 - 1))
    def shared(p):
        p['DiTBlock_3'] = p['DiTBlock_0']

    case('checkpoint-shared-block', shared)

    d = c.dir('checkpoint-step-overflow')
    state = checkpoint_state()
    state['step'] = _declared((2 ** 40, 2 ** 40))
    dump_checkpoint(f'{d}/ckpt.pkl', state)
    c.import_checkpoint(fam, 'checkpoint-step-overflow', f'{d}/ckpt.pkl')

    d = c.dir('checkpoint-array-overflow')
    state = checkpoint_state()
    state['params']['Embed_0']['embedding'] = _declared((2 ** 62, 2 ** 62, 16))
    dump_checkpoint(f'{d}/ckpt.pkl', state)
    c.import_checkpoint(fam, 'checkpoint-array-overflow', f'{d}/ckpt.pkl')


class _Declared:
    """Pickles like a float32 numpy array of any declared shape with 4 bytes of data."""

    def __init__(self, shape):
        self.shape = shape

    def __reduce__(self):
        a = np.zeros(1, dtype=np.float32)
        fn, args, state = a.__reduce__()
        version, _, dtype, fortran, data = state
        return fn, args, (version, tuple(self.shape), dtype, fortran, data)


def _declared(shape):
    return _Declared(shape)


def tensors_files(c):
    """Safetensors files as velocity inputs, latents and diffusers weights."""
    fam = 'safetensors'
    good = velocity_inputs()
    good_bytes = safetensors(good)
    n = struct.unpack('<Q', good_bytes[:8])[0]
    header = json.loads(good_bytes[8:8 + n])
    data = good_bytes[8 + n:]

    def with_header(text):
        raw = text.encode('utf-8') if isinstance(text, str) else text
        raw += b' ' * (-len(raw) % 8)
        return struct.pack('<Q', len(raw)) + raw + data

    def edited(fn):
        h = json.loads(json.dumps(header))
        fn(h)
        return with_header(json.dumps(h))

    x = header['x']
    xs = json.dumps(x)
    variants = {
        'st-comment': with_header('/* c */' + json.dumps(header)),
        'st-line-comment': with_header(json.dumps(header)[:-1] + '\n// c\n}'),
        'st-single-quotes': with_header(json.dumps(header).replace('"dtype"', "'dtype'", 1)),
        'st-duplicate-name': with_header('{"x": ' + xs + ', ' + json.dumps(header)[1:]),
        'st-duplicate-field': with_header(json.dumps(header).replace(
            '"dtype": "F32"', '"dtype": "F32", "dtype": "F32"', 1)),
        'st-shape-float': edited(lambda h: h['x'].update(shape=[2.9, 8, 8, 4])),
        'st-shape-exponent': edited(lambda h: h['x'].update(shape=[2e0, 8, 8, 4])),
        'st-shape-string': edited(lambda h: h['x'].update(shape=['2', 8, 8, 4])),
        'st-shape-negative': edited(lambda h: h['x'].update(shape=[-2, 8, 8, -4])),
        'st-shape-overflow': edited(lambda h: h['x'].update(shape=[2 ** 62, 2 ** 62, 8, 4])),
        'st-shape-rank-100': edited(lambda h: h['x'].update(shape=[1] * 100)),
        'st-offset-float': edited(lambda h: h['x'].update(data_offsets=[0.0, 2048.0])),
        'st-offset-wrapped': edited(lambda h: h['x'].update(data_offsets=[2 ** 64, 2 ** 64 + 2048])),
        'st-offset-negative': edited(lambda h: h['x'].update(data_offsets=[-8, 2040])),
        'st-offset-past-end': edited(lambda h: h['x'].update(data_offsets=[10 ** 12, 10 ** 12 + 2048])),
        'st-overlap': edited(lambda h: h['t'].update(data_offsets=[0, 8])),
        'st-nan-literal': with_header(json.dumps(header).replace('[0, 2048]', '[NaN, 2048]', 1)),
        'st-trailing': with_header(json.dumps(header) + ' {}'),
        'st-not-object': with_header('[1, 2, 3]'),
        'st-deep-json': with_header('{"x": ' + '[' * 100000 + ']' * 100000 + '}'),
        'st-unknown-dtype': edited(lambda h: h['x'].update(dtype='F64')),
        'st-metadata-object': edited(lambda h: h.update(__metadata__={'a': {'b': 1}})),
        'st-not-utf8': with_header(b'{"\xff\xfe": 1}'),
        'st-header-length-huge': struct.pack('<Q', 1 << 62) + good_bytes[8:],
        'st-header-length-past-end': struct.pack('<Q', len(good_bytes)) + good_bytes[8:],
        'st-header-length-zero': struct.pack('<Q', 0) + good_bytes[8:],
        'st-truncated-data': good_bytes[:-100],
        'st-tiny': b'\x01\x02',
    }
    # 17 MiB of empty tensors (above the header limit) and 30,000 (above the tensor count)
    many = {f't{i:08d}': {'dtype': 'F32', 'shape': [0], 'data_offsets': [0, 0]}
            for i in range(270000)}
    variants['st-header-17mib'] = with_header(json.dumps(many))
    few = {f't{i:06d}': {'dtype': 'F32', 'shape': [0], 'data_offsets': [0, 0]}
           for i in range(30000)}
    few.update(header)
    variants['st-30000-tensors'] = with_header(json.dumps(few))
    variants['st-2m-values'] = with_header('{"x": {"shape": [' + '0,' * (2 << 20) + '0]}}')
    nan_inputs = dict(good)
    nan_inputs['x'] = good['x'].copy()
    nan_inputs['x'][1, 2, 3, 0] = np.nan
    variants['st-nan-x'] = safetensors(nan_inputs)
    big = dict(good)
    big['label'] = np.array([2 ** 40, 0], dtype=np.int64)
    variants['st-label-huge'] = safetensors(big)
    for name, content in variants.items():
        d = c.dir(name)
        write(f'{d}/inputs.safetensors', content)
        c.velocity(fam, name, f'{c.work}/pkg', f'{d}/inputs.safetensors')
    for name, target in (('st-dev-zero', '/dev/zero'), ('st-dev-urandom', '/dev/urandom')):
        d = c.dir(name)
        os.symlink(target, f'{d}/inputs.safetensors')
        c.velocity(fam, name, f'{c.work}/pkg', f'{d}/inputs.safetensors')

    fam = 'latents'
    rng = np.random.default_rng(5)
    lat = {
        'latents-nan': rng.standard_normal((1, 4, 4, 4)).astype(np.float32),
        'latents-256': np.zeros((1, 256, 256, 4), dtype=np.float32),
        'latents-wide': np.zeros((1, 1, 4096, 4), dtype=np.float32),
        'latents-batch-2000': np.zeros((2000, 1, 1, 4), dtype=np.float32),
        'latents-channels': np.zeros((1, 4, 4, 7), dtype=np.float32),
        'latents-rank': np.zeros((4, 4, 4), dtype=np.float32),
    }
    lat['latents-nan'][0, 1, 1, 1] = np.nan
    for name, a in lat.items():
        d = c.dir(name)
        write(f'{d}/latents.safetensors', safetensors({'latents': a}))
        c.decode(fam, name, f'{d}/latents.safetensors')
    d = c.dir('latents-inf')
    a = np.zeros((1, 4, 4, 4), dtype=np.float32)
    a[0, 0, 0, 0] = -np.inf
    write(f'{d}/latents.safetensors', safetensors({'latents': a}))
    c.decode(fam, 'latents-inf', f'{d}/latents.safetensors')
    d = c.dir('latents-dev-zero')
    os.symlink('/dev/zero', f'{d}/latents.safetensors')
    c.decode(fam, 'latents-dev-zero', f'{d}/latents.safetensors')
    d = c.dir('latents-fifo')
    os.mkfifo(f'{d}/latents.safetensors')
    c.decode(fam, 'latents-fifo', f'{d}/latents.safetensors')
    d = c.dir('latents-duplicate')
    one = safetensors({'latents': np.zeros((1, 4, 4, 4), dtype=np.float32)})
    n = struct.unpack('<Q', one[:8])[0]
    h = one[8:8 + n].decode().strip()
    entry = h[1:-1]
    raw = ('{' + entry + ', ' + entry + '}').encode()
    raw += b' ' * (-len(raw) % 8)
    write(f'{d}/latents.safetensors', struct.pack('<Q', len(raw)) + raw + one[8 + n:])
    c.decode(fam, 'latents-duplicate', f'{d}/latents.safetensors')


def packages(c):
    """Model packages for velocity and the job."""
    fam = 'package'
    pkg = f'{c.work}/pkg'
    manifest = json.load(open(f'{pkg}/manifest.json'))
    weights = open(f'{pkg}/weights.safetensors', 'rb').read()

    def case(name, edit=None, weights_bytes=None, text=None, link=None, job=True, fifo=False,
             fix_digest=True, expected='2'):
        d = c.dir(name)
        m = json.loads(json.dumps(manifest))
        w = weights if weights_bytes is None else weights_bytes
        if link:
            os.symlink(link, f'{d}/weights.safetensors')
        elif fifo:
            os.mkfifo(f'{d}/weights.safetensors')
        else:
            write(f'{d}/weights.safetensors', w)
            if fix_digest:
                m['weights']['sha256'] = sha256(w)
                m['weights']['sizeBytes'] = str(len(w))
        if edit:
            edit(m, d)
        write(f'{d}/manifest.json', (text(m) if text else json.dumps(m, indent=1)).encode())
        c.velocity(fam, name, f'{d}/manifest.json', expected=expected)
        if job:
            c.job(fam, 'job-' + name, f'{d}/manifest.json')

    def arch(**kw):
        def e(m, d):
            m['architecture'].update(kw)
        return e

    outside = f'{c.work}/cases/outside.safetensors'
    write(outside, weights)

    def rel_out(m, d):
        m['weights']['file'] = '../outside.safetensors'
        m['weights']['sha256'] = sha256(weights)

    case('pkg-weights-dotdot', rel_out)
    case('pkg-weights-absolute', lambda m, d: m['weights'].update(file='/etc/passwd'))
    case('pkg-weights-absolute-copy', lambda m, d: m['weights'].update(file=outside))
    case('pkg-weights-scheme', lambda m, d: m['weights'].update(file='file:///etc/passwd'))
    case('pkg-weights-gs', lambda m, d: m['weights'].update(file='gs://bucket/w.safetensors'))
    case('pkg-weights-dev-zero', link='/dev/zero', fix_digest=False)
    case('pkg-weights-dev-urandom', link='/dev/urandom', fix_digest=False)
    case('pkg-weights-fifo', fifo=True, fix_digest=False)
    case('pkg-weights-truncated', weights_bytes=weights[:len(weights) // 2], fix_digest=False)
    case('pkg-weights-corrupt', weights_bytes=weights[:-4] + b'\x00\x00\x80\x7f', fix_digest=False)
    w = bytearray(weights)
    n = struct.unpack('<Q', weights[:8])[0]
    w[8 + n + 40:8 + n + 44] = struct.pack('<f', float('nan'))
    case('pkg-weights-nan', weights_bytes=bytes(w))
    w[8 + n + 40:8 + n + 44] = struct.pack('<f', float('inf'))
    case('pkg-weights-inf', weights_bytes=bytes(w))
    case('pkg-weights-longer', weights_bytes=weights + b'\x00' * 64, job=False,
         expected='0|2')
    case('pkg-depth-1e9', arch(depth=10 ** 9))
    case('pkg-classes-2e31', arch(numClasses=2 ** 31 - 1))
    case('pkg-width-huge', arch(hiddenSize=2 ** 30))
    case('pkg-image-4096', arch(imageSize=4096))
    case('pkg-patch-zero', arch(patchSize=0))
    case('pkg-heads-zero', arch(numHeads=0))
    case('pkg-depth-float', text=lambda m: json.dumps(m).replace('"depth": 4', '"depth": 2.5'))
    case('pkg-comment', text=lambda m: '// model\n' + json.dumps(m))
    case('pkg-single-quotes', text=lambda m: json.dumps(m).replace('"name"', "'name'", 1))
    case('pkg-duplicate-key', text=lambda m: '{"name": "x", ' + json.dumps(m)[1:])
    case('pkg-not-json', text=lambda m: 'not json at all')

    def preset(steps=8, blocks=4, guidance=None, default=None, name='draft'):
        def e(m, d):
            t = {'steps': steps, 'blocks': blocks}
            if guidance is not None:
                t['guidance'] = guidance
            m['tiers'] = [{'name': name, 'tier': t}]
            m['defaultTier'] = default or name
        return e

    case('pkg-preset-steps-2e30', preset(steps=2 ** 30))
    case('pkg-preset-steps-zero', preset(steps=0, blocks=4))
    case('pkg-preset-blocks', preset(blocks=3))
    case('pkg-preset-guidance', preset(guidance=1e9))
    case('pkg-default-not-preset', preset(default='premium'))

    def quality(m, d):
        m['quality'] = [{'tier': {'steps': 8, 'blocks': 4}, 'classAccuracy': 0.5}] * 40000

    case('pkg-manifest-2mb', quality)
    d = c.dir('pkg-manifest-dev-zero')
    os.symlink('/dev/zero', f'{d}/manifest.json')
    c.velocity(fam, 'pkg-manifest-dev-zero', f'{d}/manifest.json')
    c.job(fam, 'job-pkg-manifest-dev-zero', f'{d}/manifest.json')
    c.velocity(fam, 'pkg-missing', f'{c.work}/cases/no-such-package')
    c.velocity(fam, 'pkg-gs-no-credentials', 'gs://odelt-no-such-bucket/model')
    c.job(fam, 'job-pkg-missing', f'{c.work}/cases/no-such-package')
    c.job(fam, 'job-pkg-gs-no-credentials', 'gs://odelt-no-such-bucket/model')
    c.decode(fam, 'decode-vae-gs-no-credentials', f'{c.work}/base/latents.safetensors',
             vae='gs://odelt-no-such-bucket/vae')
    c.import_vae(fam, 'import-vae-gs-no-credentials', 'gs://odelt-no-such-bucket/diffusers')

    # Latent models: decoders missing, unreadable, mismatched
    lpkg = f'{c.work}/lpkg'
    lman = json.load(open(f'{lpkg}/manifest.json'))
    lweights = open(f'{lpkg}/weights.safetensors', 'rb').read()

    def latent(name, edit):
        d = c.dir(name)
        m = json.loads(json.dumps(lman))
        write(f'{d}/weights.safetensors', lweights)
        edit(m, d)
        write(f'{d}/manifest.json', json.dumps(m).encode())
        c.job('decoder', 'job-' + name, f'{d}/manifest.json')

    latent('latent-no-decoder', lambda m, d: m.pop('decoder'))
    latent('latent-decoder-missing',
           lambda m, d: m['decoder'].update(location=f'{c.work}/cases/no-such-vae'))
    latent('latent-decoder-digest', lambda m, d: m['decoder'].update(sha256='0' * 64))
    vae8 = open(f'{c.work}/vae8/manifest.json', 'rb').read()
    latent('latent-decoder-channels',
           lambda m, d: m['decoder'].update(location=f'{c.work}/vae8', sha256=sha256(vae8)))

    def vae_weights_broken(m, d):
        shutil.copytree(f'{c.work}/vae', f'{d}/vae')
        with open(f'{d}/vae/weights.safetensors', 'r+b') as f:
            f.truncate(100)
        m['decoder'].update(location=f'{d}/vae')

    latent('latent-decoder-truncated', vae_weights_broken)

    def vae_dev_zero(m, d):
        os.makedirs(f'{d}/vae')
        os.symlink('/dev/zero', f'{d}/vae/manifest.json')
        m['decoder'].update(location=f'{d}/vae')

    latent('latent-decoder-dev-zero', vae_dev_zero)
    latent('latent-image-128', lambda m, d: m['architecture'].update(imageSize=128))


def vae_folders(c):
    fam = 'diffusers'
    cfg = vae_config()
    ts = vae_tensors(cfg, 1)

    def case(name, cfg_edit=None, text=None, tensors=None, weights=None, expected='2'):
        d = c.dir(name)
        cc = json.loads(json.dumps(cfg))
        if cfg_edit:
            cfg_edit(cc)
        write_diffusers(d, cc, tensors if tensors is not None else ts,
                        text(cc) if text else None)
        if weights is not None:
            os.remove(f'{d}/diffusion_pytorch_model.safetensors')
            if isinstance(weights, str):
                os.symlink(weights, f'{d}/diffusion_pytorch_model.safetensors')
            else:
                write(f'{d}/diffusion_pytorch_model.safetensors', weights)
        c.import_vae(fam, name, d, expected)

    case('vae-config-comment', text=lambda cc: '/* vae */' + json.dumps(cc))
    case('vae-config-duplicate', text=lambda cc: '{"latent_channels": 4, ' + json.dumps(cc)[1:])
    case('vae-config-channels-huge', lambda cc: cc.update(block_out_channels=[10 ** 9, 10 ** 9]))
    case('vae-config-latent-2e31', lambda cc: cc.update(latent_channels=2 ** 31))
    case('vae-config-latent-float', lambda cc: cc.update(latent_channels=4.5))
    case('vae-config-blocks-100', lambda cc: cc.update(block_out_channels=[8] * 100,
                                                       up_block_types=['UpDecoderBlock2D'] * 100))
    case('vae-config-layers-1e6', lambda cc: cc.update(layers_per_block=10 ** 6))
    case('vae-config-not-json', text=lambda cc: '{{{')
    case('vae-config-deep', text=lambda cc: '[' * 200000)
    nan = dict(ts)
    k = 'decoder.conv_out.weight'
    nan[k] = ts[k].copy()
    nan[k].flat[7] = np.nan
    case('vae-weights-nan', tensors=nan)
    wrong = dict(ts)
    wrong['decoder.conv_in.bias'] = np.zeros((3,), dtype=np.float32)
    case('vae-weights-shape', tensors=wrong)
    case('vae-weights-dev-zero', weights='/dev/zero')
    good = safetensors(ts)
    case('vae-weights-truncated', weights=good[:len(good) // 2])
    d = c.dir('vae-config-dev-zero')
    os.symlink('/dev/zero', f'{d}/config.json')
    write(f'{d}/diffusion_pytorch_model.safetensors', good)
    c.import_vae(fam, 'vae-config-dev-zero', d)

    # VAE packages for decode
    fam = 'vae-package'
    vman = json.load(open(f'{c.work}/vae/manifest.json'))
    vweights = open(f'{c.work}/vae/weights.safetensors', 'rb').read()

    def vpkg(name, edit):
        d = c.dir(name)
        m = json.loads(json.dumps(vman))
        write(f'{d}/weights.safetensors', vweights)
        edit(m, d)
        write(f'{d}/manifest.json', json.dumps(m).encode())
        c.decode(fam, name, f'{c.work}/base/latents.safetensors', vae=d)

    vpkg('vaepkg-weights-dotdot', lambda m, d: m['weights'].update(file='../../vae/weights.safetensors'))
    vpkg('vaepkg-weights-absolute',
         lambda m, d: m['weights'].update(file=f'{c.work}/vae/weights.safetensors'))
    vpkg('vaepkg-channels-huge', lambda m, d: m['architecture'].update(blockOutChannels=[10 ** 9]))


# ----------------------------------------------------------------------------- the mutator

def mutants(c, seed, count):
    """Random flips, truncations and splices of valid files; each may stay valid (exit 0)."""
    rng = random.Random(seed)
    w = c.work
    sources = [
        ('ckpt', f'{w}/base/ckpt.pkl'),
        ('inputs', f'{w}/base/inputs.safetensors'),
        ('latents', f'{w}/base/latents.safetensors'),
        ('weights', f'{w}/pkg/weights.safetensors'),
        ('manifest', f'{w}/pkg/manifest.json'),
        ('vae-config', f'{w}/base/diffusers/config.json'),
        ('vae-weights', f'{w}/base/diffusers/diffusion_pytorch_model.safetensors'),
    ]
    originals = {k: open(p, 'rb').read() for k, p in sources}
    for i in range(count):
        kind = sources[i % len(sources)][0]
        data = bytearray(originals[kind])
        op = rng.choice(['flip', 'truncate', 'splice', 'bytes', 'header'])
        if op == 'flip':
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif op == 'truncate':
            data = data[:rng.randrange(len(data))]
        elif op == 'splice':
            other = originals[rng.choice(list(originals))]
            a, b = sorted(rng.randrange(len(other)) for _ in range(2))
            at = rng.randrange(len(data))
            data = data[:at] + other[a:b] + data[at + rng.randint(0, 64):]
        elif op == 'bytes':
            at = rng.randrange(len(data))
            data[at:at + 8] = bytes(rng.randrange(256) for _ in range(8))
        else:  # within the first 512 bytes: headers, lengths, the JSON
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(min(len(data), 512))
                data[at] = rng.choice([0, 0xff, ord('"'), ord('['), ord('9'), ord('-'), ord('.'),
                                       rng.randrange(256)])
        data = bytes(data)
        name = f'mutant-{i:04d}-{kind}-{op}'
        d = c.dir(name)
        if kind == 'ckpt':
            write(f'{d}/ckpt.pkl', data)
            c.import_checkpoint('mutant', name, f'{d}/ckpt.pkl', '0|2')
        elif kind == 'inputs':
            write(f'{d}/inputs.safetensors', data)
            c.velocity('mutant', name, f'{w}/pkg', f'{d}/inputs.safetensors', '0|2')
        elif kind == 'latents':
            write(f'{d}/latents.safetensors', data)
            c.decode('mutant', name, f'{d}/latents.safetensors', expected='0|2')
        elif kind == 'weights':
            m = json.load(open(f'{w}/pkg/manifest.json'))
            m['weights']['sha256'] = sha256(data)
            m['weights']['sizeBytes'] = str(len(data))
            write(f'{d}/weights.safetensors', data)
            write(f'{d}/manifest.json', json.dumps(m).encode())
            c.velocity('mutant', name, f'{d}/manifest.json', expected='0|2')
        elif kind == 'manifest':
            write(f'{d}/weights.safetensors', originals['weights'])
            write(f'{d}/manifest.json', data)
            c.velocity('mutant', name, f'{d}/manifest.json', expected='0|2')
        else:
            shutil.copytree(f'{w}/base/diffusers', d, dirs_exist_ok=True)
            target = 'config.json' if kind == 'vae-config' else 'diffusion_pytorch_model.safetensors'
            write(f'{d}/{target}', data)
            c.import_vae('mutant', name, d, '0|2')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('stage', choices=('setup', 'cases'))
    p.add_argument('work')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--mutants', type=int, default=300)
    a = p.parse_args(argv)
    work = os.path.abspath(a.work)
    if a.stage == 'setup':
        setup(work)
        return
    c = Cases(work)
    pickles(c)
    checkpoint_values(c)
    tensors_files(c)
    packages(c)
    vae_folders(c)
    mutants(c, a.seed, a.mutants)
    c.write()
    summary = ', '.join(f'{k} {v}' for k, v in c.families.items())
    print(f'hostile_files: {len(c.rows)} cases ({summary}); seed {a.seed}')


if __name__ == '__main__':
    main()
