"""Writers for the output files of DESIGN.md §3."""
