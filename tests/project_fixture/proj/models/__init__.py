from .base import Backbone, Mixin
