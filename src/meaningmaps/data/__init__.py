"""Data in and out: scene images, human ratings, fixations, maps made elsewhere, MATLAB files, the
demo study, the input check and map export. Never imports torch."""
