"""Per-codeword success flag of the 5G LDPC decoder: the parity-check syndrome of the
decoded codeword is zero.

Sionna's :class:`~sionna.phy.fec.ldpc.LDPC5GDecoder` returns either the information bits
or the transmitted codeword bits, never its syndrome. The flag is computed here from both
outputs of the same belief propagation (two decoders with the same settings): the
information bits (the first 2Z of them are punctured, so only ``u_hat`` holds them), the
filler bits (zero) and the transmitted parity bits (from ``c_hat``) give every column of
the lifted parity-check matrix ``encoder.pcm`` up to the last transmitted parity bit. The
syndrome is evaluated on every check row whose columns are all among those; the other
rows each hold an untransmitted extension parity bit of degree one (the rows the decoder
prunes), which such a bit satisfies whatever the rest, so they carry no information.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class LDPCSyndrome:
    """``(u_hat [..., k], c_hat [..., n]) -> ok [...]`` bool: the decoded codeword's
    syndrome is zero on the checked rows (see the module docstring).

    Parameters
    ----------
    encoder : sionna.phy.fec.ldpc.LDPC5GEncoder
    """

    def __init__(self, encoder):
        z, k, k_ldpc, n = int(encoder.z), int(encoder.k), int(encoder.k_ldpc), int(encoder.n)
        self.k, self.k_ldpc, self.n, self.z = k, k_ldpc, n, z
        # columns with a decision: k info, k_ldpc - k filler, then 2Z + n - k transmitted parity
        self.known_columns = k_ldpc + 2 * z + n - k
        pcm = encoder.pcm.tocsr()
        rows = [pcm.indices[pcm.indptr[r]:pcm.indptr[r + 1]] for r in range(pcm.shape[0])]
        rows = [cols for cols in rows if cols.max() < self.known_columns]
        self.num_checks = len(rows)
        width = max(len(cols) for cols in rows)
        idx = np.full([len(rows), width], self.known_columns, np.int32)  # padding: a zero column
        for i, cols in enumerate(rows):
            idx[i, : len(cols)] = cols
        self._idx = tf.constant(idx)
        self._deinterleave = (tf.constant(np.asarray(encoder.out_int_inv), tf.int32)
                              if encoder.num_bits_per_symbol is not None else None)

    def codeword(self, u_hat, c_hat):
        """The decoded codeword on the known columns plus one zero column: [N, known + 1]."""
        u = tf.reshape(tf.cast(u_hat, tf.float32), [-1, self.k])
        c = tf.reshape(tf.cast(c_hat, tf.float32), [-1, self.n])
        if self._deinterleave is not None:  # undo the rate-matching output interleaver
            c = tf.gather(c, self._deinterleave, axis=-1)
        # c holds codeword positions 2Z ... 2Z + n - 1 (filler removed): info up to k, then parity
        parity = c[:, self.k - 2 * self.z:]
        zeros = tf.zeros([tf.shape(u)[0], self.k_ldpc - self.k], tf.float32)
        return tf.concat([u, zeros, parity, tf.zeros([tf.shape(u)[0], 1], tf.float32)], axis=1)

    def __call__(self, u_hat, c_hat):
        v = self.codeword(u_hat, c_hat)
        checks = tf.reduce_sum(tf.gather(v, self._idx, axis=1), axis=-1)  # [N, checks, width] -> [N, checks]
        ok = tf.reduce_all(tf.equal(tf.math.floormod(checks, 2.0), 0.0), axis=-1)
        return tf.reshape(ok, tf.shape(u_hat)[:-1])
