from exchange.cli.app import main

main()
