"""What is judged and why it failed: the checks on one case in dependency order (structure, the
equations against the reference, metamorphic checks, unchanged inputs), the tolerance model they
use, and the diagnosis that names a cause only when its numbers prove it.
"""
