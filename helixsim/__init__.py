"""helixsim's command line, the top layer: it drives ``experiments`` and ``dashboards``, which
drive the model in ``simulation``."""
