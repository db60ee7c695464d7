python download_data.py --output_dir /tmp/data
