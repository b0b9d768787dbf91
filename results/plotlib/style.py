# SPDX-License-Identifier: MIT
"""results/plotlib/style.py - what every figure shares: colours of collector/allocator
pairs (tab10, in sorted pair order, so a pair has one colour across the figures of one
file), group and thread labels, and the paper style (small fonts, light grid).
"""
def group_label(key, show_params, show_scale):
    c, a, w, p, t, s = key
    parts = [w]
    if show_params and p:
        parts.append(p)
    if show_scale:
        parts.append("scale " + s)
    return " ".join(parts)



def pair_colors(pairs, plt):
    cmap = plt.get_cmap("tab10")
    return {p: cmap(i % 10) for i, p in enumerate(pairs)}



def threads_label(t):
    return "%s thread%s" % (t, "" if t == "1" else "s")


def cell_label(key):
    """collector/allocator, N threads (the line label of a cell)."""
    return "%s/%s, %s" % (key[0], key[1], threads_label(key[4]))


def paper_axes(ax, title=None):
    """Light grid under the data, small title."""
    ax.grid(alpha=0.3, which="both")
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, fontsize=9)
