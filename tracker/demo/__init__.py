"""Demo and benchmark data: portfolio.py (`tracker demo`) replays each domain's history through its services, bench/
(`tracker bench-data`) writes a large portfolio in bulk. No domain imports this package."""
