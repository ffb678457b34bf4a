#!/usr/bin/env python3
"""Writes the TorchScript module that casts a tensor to bfloat16 for the Java model library.

DJL 0.33's PyTorch JNI cannot name bfloat16 (its dtype switch ends in a bare `throw;`, which
aborts the JVM), so the library casts through this module instead; see
dev.odelt.model.net.Bfloat16. Run with Debian's python3-torch (1.13; the archive format loads in
later PyTorch versions):

  /usr/bin/python3 model-artifacts/tools/make-bf16-cast.py \
      model-artifacts/src/main/resources/dev/odelt/model/net/to_bfloat16.pt
"""
import sys

import torch


class ToBfloat16(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.bfloat16)


if __name__ == "__main__":
    torch.jit.script(ToBfloat16()).save(sys.argv[1])
