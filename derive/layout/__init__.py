"""Template contexts: which steps a worksheet, a worked solution or a fragment shows, in which order.

Everything here is arrangement of records the printing package already typeset.
"""
