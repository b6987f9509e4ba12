"""Where this copy of the package finds libevaio.

None in the source tree and in a pip install.  The copy CMake puts in the
build tree (BUILD/python/evaio) names the build's library, and the one
`cmake --install` installs names the installed library.
"""

LIBRARY = None
