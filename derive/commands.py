"""Sub-commands beyond `key`: each lives with the stage it drives and registers itself on import."""
from . import worksheet  # noqa: F401
from . import exam_cli  # noqa: F401
from . import snippet  # noqa: F401
from . import calculus_cli  # noqa: F401
