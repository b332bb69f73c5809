"""python -m orbitgrid"""

from orbitgrid.cli import main

main()
