"""The scenario library: the TOML scenario files shipped with helixsim (data, never code).

This folder is a package only so that the files travel inside the wheel as its package data;
``simulation.scenarios`` finds them through ``importlib.resources``, so an installed helixsim
has its library without the source tree.
"""
