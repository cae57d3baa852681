# No framework import at all: only the project index knows Stage is a Module.
from ..models.base import Middle


class Stage(Middle):
    pass
