"""A synthetic penal system with planted corruption schemes, for tests, demos and evaluation.

The generator knows the truth and writes it beside the drop, never inside it.
Nothing in the detection code imports from this package.
"""
