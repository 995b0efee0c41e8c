"""Portfolio credit models shared by asset classes: the Vasicek closed form and the Gaussian
copula Monte Carlo of correlated defaults."""
