"""The layers of ``nnkit.nn``, one file per family (linear, conv, pooling, normalization, activation,
dropout, embedding, loss, flatten). Import them from ``nnkit.nn`` (``nn.Linear``, ``nn.Flatten``...), whose
``__all__`` is the one list of public layers.
"""
