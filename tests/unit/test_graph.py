"""graph_function: traced without AutoGraph where the code allows it, with AutoGraph where
the code branches on a tensor; the same values either way."""

import tensorflow as tf

from linksim.graph import graph_function


def _shape_branch(x):
    return x * 2.0 if x.shape[0] > 2 else x     # a Python branch on a shape: no AutoGraph needed


def _tensor_branch(x):
    if tf.reduce_sum(x) > 0:                     # a branch on a tensor: needs AutoGraph
        return x * 2.0
    return -x


def test_plain_code_is_traced_without_autograph():
    f = graph_function(_shape_branch)
    x = tf.constant([1.0, 2.0, 3.0])
    assert f(x).numpy().tolist() == [2.0, 4.0, 6.0]
    assert not f.autograph


def test_tensor_branches_fall_back_to_autograph():
    f = graph_function(_tensor_branch, reduce_retracing=True)
    assert f(tf.constant([1.0, -3.0])).numpy().tolist() == [-1.0, 3.0]
    assert f.autograph
    assert f(tf.constant([1.0, 3.0])).numpy().tolist() == [2.0, 6.0]   # the branch is in the graph
