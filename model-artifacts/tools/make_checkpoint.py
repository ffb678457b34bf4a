#!/usr/bin/env python3
"""Writes a synthetic checkpoint in the exact format of the paper's reference implementation.

The reference (github.com/gudovskiy/odelt, utils/checkpoint.py and train.py) saves
``pickle.dumps(dict)`` of ``params`` and ``params_ema`` (the Flax parameter tree of its DiT),
``opt_state`` (optax objects), ``step`` and ``_timestamp``; some files wrap that dict as
``{'train_state': ...}``; older flax versions pickle trees as ``flax.core.frozen_dict.FrozenDict``.
This script writes the same structure with random (or patterned) float32 arrays, using only numpy
and the standard library: the optax and flax classes are defined here at run time under their
real module names, so the pickle names classes this machine does not have, exactly as a real
checkpoint does. numpy 1.x and 2.x pickles differ in the module of the array constructors
(``numpy.core.*`` vs ``numpy._core.*``); ``--numpy`` writes either, whichever numpy is installed.

Usage:
  make_checkpoint.py OUT.pkl [--family tiny|xl-like|uncond|dit-b|dit-xl] [--width D] [--depth N]
      [--classes K] [--channels C] [--patch P] [--protocol 2..5] [--numpy 1|2]
      [--frozen none|reduce|state] [--wrap] [--no-opt-state] [--values random|pattern] [--seed S]
      [--scale SIGMA]

Prints one JSON line: the family's import options (heads, depth_min, group size, image size,
which the tree does not record) and what was written.

``--values pattern`` fills params with the distinct integers 1, 2, 3, ... in tree order (each
exact in float32; tiny families only) and params_ema with their negatives, so a test can check
every element of the import by position.
"""
import argparse
import collections
import copyreg
import json
import os
import pickle
import sys
import time
import types

import numpy as np

# The families the tests and parity checks use, and the paper's two sizes (DESIGN.md §5).
# heads / depth_min / group / image_size are what an importer must be told.
FAMILIES = {
    'tiny': dict(width=32, depth=4, classes=10, channels=4, patch=2, heads=4, depth_min=2,
                 group=2, image_size=8),
    # depth_min % G != 0, like DiT-XL (28, 12, 8): L in {3, 5, 7}.
    'xl-like': dict(width=48, depth=7, classes=10, channels=4, patch=2, heads=4, depth_min=3,
                    group=2, image_size=8),
    # CelebA-HQ style: one class, trained with the null label only.
    'uncond': dict(width=32, depth=4, classes=1, channels=4, patch=2, heads=4, depth_min=2,
                   group=2, image_size=8),
    'dit-b': dict(width=768, depth=12, classes=1000, channels=4, patch=2, heads=12, depth_min=4,
                  group=4, image_size=32),
    'dit-xl': dict(width=1152, depth=28, classes=1000, channels=4, patch=2, heads=16,
                   depth_min=12, group=8, image_size=32),
}


def fake_module(name):
    """A module object registered under ``name`` (and its parents) unless one exists."""
    parts = name.split('.')
    for k in range(1, len(parts) + 1):
        sub = '.'.join(parts[:k])
        if sub not in sys.modules:
            sys.modules[sub] = types.ModuleType(sub)
    return sys.modules[name]


def fake_class(cls, module):
    cls.__module__ = module
    setattr(fake_module(module), cls.__name__, cls)
    return cls


# optax's states are NamedTuples; pickled by reference to their module and name.
ScaleByAdamState = fake_class(
    collections.namedtuple('ScaleByAdamState', ['count', 'mu', 'nu']), 'optax._src.transform')
ScaleByScheduleState = fake_class(
    collections.namedtuple('ScaleByScheduleState', ['count']), 'optax._src.transform')
EmptyState = fake_class(collections.namedtuple('EmptyState', []), 'optax._src.base')


class FrozenDict:
    """Pickles like flax.core.frozen_dict.FrozenDict: ``(FrozenDict, (plain dict,))``."""

    def __init__(self, content, style):
        self._dict = content
        self._style = style

    def __reduce_ex__(self, protocol):
        if self._style == 'state':
            # Older flax (no __reduce__, __slots__ = ('_dict', '_hash')): NEWOBJ, then BUILD with
            # the slot state.
            return copyreg.__newobj__, (FrozenDict,), (None, {'_dict': self._dict, '_hash': None})
        return FrozenDict, (unfreeze(self._dict),)


fake_class(FrozenDict, 'flax.core.frozen_dict')


def unfreeze(tree):
    if isinstance(tree, FrozenDict):
        tree = tree._dict
    if isinstance(tree, dict):
        return {k: unfreeze(v) for k, v in tree.items()}
    return tree


def freeze(tree, style, nested):
    """Wraps the tree's top (or, nested, every level) in FrozenDict."""
    if not isinstance(tree, dict):
        return tree
    inner = {k: freeze(v, style, nested) for k, v in tree.items()} if nested else tree
    return FrozenDict(inner, style)


class Pickler(pickle._Pickler):
    """The standard pickler, except that numpy's array and scalar constructors are written under
    the numpy major version asked for (``numpy.core`` for 1.x, ``numpy._core`` for 2.x)."""

    NUMPY_CONSTRUCTORS = {'_reconstruct', 'scalar', '_frombuffer'}
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol, numpy_major):
        super().__init__(file, protocol)
        self.core = 'numpy.core' if numpy_major == 1 else 'numpy._core'

    def save_global(self, obj, name=None):
        module = getattr(obj, '__module__', None) or ''
        qualname = name or getattr(obj, '__qualname__', None)
        if (qualname in self.NUMPY_CONSTRUCTORS
                and module.split('.')[:2] in (['numpy', 'core'], ['numpy', '_core'])):
            target = self.core + '.' + module.split('.', 2)[2]
            if self.proto >= 4:
                self.save(target)
                self.save(qualname)
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(pickle.GLOBAL + f'{target}\n{qualname}\n'.encode('utf-8'))
            self.memoize(obj)
            return
        super().save_global(obj, name)

    # Plain Python functions (numpy's _frombuffer) are dispatched straight to the base method.
    dispatch[types.FunctionType] = lambda self, obj: self.save_global(obj)


class Values:
    def __init__(self, mode, seed, scale):
        self.mode = mode
        self.scale = np.float32(scale)
        self.rng = np.random.default_rng(seed)
        self.next = 1

    def array(self, shape):
        size = int(np.prod(shape))
        if self.mode == 'pattern':
            if self.next + size > 1 << 24:
                raise SystemExit('--values pattern: the tree is too large to number exactly')
            a = np.arange(self.next, self.next + size, dtype=np.float32).reshape(shape)
            self.next += size
            return a
        return (self.rng.standard_normal(shape, dtype=np.float32) * self.scale).astype(np.float32)


def dense(values, n_in, n_out):
    return {'kernel': values.array((n_in, n_out)), 'bias': values.array((n_out,))}


def flax_params(values, width, depth, classes, channels, patch, mlp_ratio):
    """The DiT parameter tree in Flax's creation order (reference model.py)."""
    d, m = width, int(width * mlp_ratio)
    tree = {
        'PatchEmbed_0': {'Conv_0': {'kernel': values.array((patch, patch, channels, d)),
                                    'bias': values.array((d,))}},
        'TimestepEmbedder_0': {'Dense_0': dense(values, 256, d), 'Dense_1': dense(values, d, d)},
        'TimestepEmbedder_1': {'Dense_0': dense(values, 256, d), 'Dense_1': dense(values, d, d)},
        'LabelEmbedder_0': {'Embed_0': {'embedding': values.array((classes + 1, d))}},
        'BlockEmbedder_0': {'Embed_0': {'embedding': values.array((depth + 1, d))}},
    }
    for i in range(depth):
        tree[f'DiTBlock_{i}'] = {
            'Dense_0': dense(values, d, 6 * d),
            'Dense_1': dense(values, d, d),
            'Dense_2': dense(values, d, d),
            'Dense_3': dense(values, d, d),
            'Dense_4': dense(values, d, d),
            'MlpBlock_0': {'Dense_0': dense(values, d, m), 'Dense_1': dense(values, m, d)},
        }
    tree['FinalLayer_0'] = {'Dense_0': dense(values, d, 2 * d),
                            'Dense_1': dense(values, d, patch * patch * channels)}
    tree['Embed_0'] = {'embedding': np.zeros((256, 1), dtype=np.float32)}  # log-variance table
    return tree


def tree_map(fn, tree):
    if isinstance(tree, dict):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    return fn(tree)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('output')
    p.add_argument('--family', choices=sorted(FAMILIES), default='tiny')
    for name in ('width', 'depth', 'classes', 'channels', 'patch'):
        p.add_argument('--' + name, type=int)
    p.add_argument('--mlp-ratio', type=float, default=4.0)
    p.add_argument('--protocol', type=int, choices=(2, 3, 4, 5), default=5,
                   help='pickle protocol (pickle.dumps defaults to 5 since Python 3.8)')
    p.add_argument('--numpy', type=int, choices=(1, 2), default=1,
                   help='numpy major version whose module names the pickle uses')
    p.add_argument('--frozen', choices=('none', 'reduce', 'state'), default='none',
                   help='trees as flax FrozenDict: REDUCE form (flax >= 0.3) or NEWOBJ+BUILD form')
    p.add_argument('--wrap', action='store_true', help="wrap as {'train_state': ...}")
    p.add_argument('--no-opt-state', action='store_true')
    p.add_argument('--values', choices=('random', 'pattern'), default='random')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--scale', type=float, default=0.02,
                   help='standard deviation of random values (DiT initialises with 0.02; parity'
                        ' checks want larger values so that every tensor shows in the output)')
    args = p.parse_args(argv)

    family = dict(FAMILIES[args.family])
    for name in ('width', 'depth', 'classes', 'channels', 'patch'):
        if getattr(args, name) is not None:
            family[name] = getattr(args, name)

    values = Values(args.values, args.seed, args.scale)
    shape_args = (family['width'], family['depth'], family['classes'], family['channels'],
                  family['patch'], args.mlp_ratio)
    params = flax_params(values, *shape_args)
    if args.values == 'pattern':
        params_ema = tree_map(lambda a: -a, params)
    else:
        params_ema = tree_map(lambda a: a + values.array(a.shape) * np.float32(0.1), params)

    def frozen(tree):
        if args.frozen == 'none':
            return tree
        return freeze(tree, args.frozen, nested=args.frozen == 'state')

    state = {'params': frozen(params), 'params_ema': frozen(params_ema)}
    if not args.no_opt_state:
        # optax.chain(optax.adamw(...)): ((ScaleByAdamState, EmptyState, ScaleByScheduleState),)
        count = np.array(100000, dtype=np.int32)
        mu = tree_map(lambda a: a * np.float32(0.1), params)
        nu = tree_map(lambda a: a * a, params)
        state['opt_state'] = ((ScaleByAdamState(count, frozen(mu), frozen(nu)), EmptyState(),
                               ScaleByScheduleState(count)),)
    state['step'] = np.array(100000, dtype=np.int32)  # process_allgather: a 0-d numpy array
    state['_timestamp'] = time.time()
    root = {'train_state': state} if args.wrap else state

    tmp = args.output + '.tmp'
    with open(tmp, 'wb') as f:
        Pickler(f, args.protocol, args.numpy).dump(root)
    os.replace(tmp, args.output)

    print(json.dumps({
        'file': args.output,
        'bytes': os.path.getsize(args.output),
        'family': args.family,
        'width': family['width'], 'depth': family['depth'], 'classes': family['classes'],
        'channels': family['channels'], 'patch': family['patch'],
        'heads': family['heads'], 'depth_min': family['depth_min'], 'group_size': family['group'],
        'image_size': family['image_size'],
        'protocol': args.protocol, 'numpy': args.numpy, 'frozen': args.frozen, 'wrap': args.wrap,
    }))


if __name__ == '__main__':
    main()
