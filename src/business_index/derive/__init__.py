"""Derivation: one business name per property, and one summary row per business."""
