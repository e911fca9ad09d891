"""The Discord adapter: discord.py gateway client in, embeds and persistent buttons out."""
