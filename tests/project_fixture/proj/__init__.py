from .models import Backbone  # re-exported twice: proj.Backbone -> proj.models.Backbone -> proj.models.base.Backbone
