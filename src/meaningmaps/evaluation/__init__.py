"""Maps against attention: per-scene scores, the saliency benchmark's metrics, the noise ceiling, the
summary across scenes and the figures. Never imports torch."""
