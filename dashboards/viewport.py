"""The width of the visitor's window, for choices CSS cannot make (which panels start open).

A media query can hide or reflow a panel, but whether a Vuetify panel is open is state on the
server: hiding an open panel with CSS would take two taps to open it. ``WidthProbe`` reports
``window.innerWidth`` once, when it is drawn, and the page starts the panel folded or open
from it.
"""

from __future__ import annotations

from typing import Any

import ipyvuetify as v
import traitlets

# At most this wide (px) is a narrow screen, as in the page's CSS media query.
NARROW = 600


class WidthProbe(v.VuetifyTemplate):
    """An invisible element whose ``width`` is the window's inner width (0 until drawn)."""

    width = traitlets.Int(0).tag(sync=True)
    template = traitlets.Unicode("""
<template><span class="width-probe" :data-width="width" style="display:none"></span></template>
<script>
module.exports = { mounted() { this.width = window.innerWidth; } };
</script>
""").tag(sync=True)


def probe(on_width: Any) -> Any:
    """The probe as a Solara element calling ``on_width(px)`` when the browser reports it."""
    return WidthProbe.element(on_width=on_width)


def narrow(width: int) -> bool:
    """A reported width at most NARROW; unknown (0) counts as wide."""
    return 0 < width <= NARROW
