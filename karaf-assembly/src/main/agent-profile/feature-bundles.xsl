<?xml version="1.0" encoding="UTF-8"?>
<!-- The bundles a feature installs, one "location = start level" line each (80, Karaf's default, where the feature
     names none): its own bundles and those of the features it requires (found in the same descriptor or in
     $standard), not those of its conditionals, and not those $startup (the assembly's etc/startup.properties) starts
     already. The assembly build compares this list with etc/vl2-agent-startup.properties (karaf-assembly/pom.xml). -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:param name="feature"/>
  <xsl:param name="standard"/>
  <xsl:param name="startup"/>
  <xsl:variable name="descriptors" select="/ | document($standard)"/>

  <xsl:template match="/">
    <xsl:apply-templates select="$descriptors//*[local-name() = 'feature' and @name = $feature]" mode="bundles"/>
  </xsl:template>

  <xsl:template match="*" mode="bundles">
    <xsl:for-each select="*[local-name() = 'bundle']">
      <xsl:variable name="location" select="normalize-space(.)"/>
      <xsl:if test="not(contains($startup, concat('mvn\:', substring-after($location, 'mvn:'), ' ')))">
        <xsl:value-of select="$location"/>
        <xsl:text> = </xsl:text>
        <xsl:choose>
          <xsl:when test="@start-level"><xsl:value-of select="@start-level"/></xsl:when>
          <xsl:otherwise>80</xsl:otherwise>
        </xsl:choose>
        <xsl:text>&#10;</xsl:text>
      </xsl:if>
    </xsl:for-each>
    <xsl:for-each select="*[local-name() = 'feature']">
      <xsl:variable name="name" select="normalize-space(.)"/>
      <xsl:apply-templates select="$descriptors//*[local-name() = 'feature' and @name = $name]" mode="bundles"/>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
