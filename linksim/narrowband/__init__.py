"""Narrowband massive-MIMO pilot link (Card B): ``Y = H X + N`` with ``H`` in C^{Nr x Nt}.

Rows of ``H`` are observed independently through ``A = X^T``; everything here works on
``H`` as ``[..., Nr, Nt]`` complex tensors (rows = UE antennas).
"""
