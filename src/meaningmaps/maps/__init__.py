"""The map builders: the patch grid and patch files, the meaning map from per-patch ratings and its
smoothing, attention maps from fixations, the centre-bias maps. Never imports torch."""
