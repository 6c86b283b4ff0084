"""Reading spreadsheets: format sniffing, sheet grids, header detection and row extraction."""
